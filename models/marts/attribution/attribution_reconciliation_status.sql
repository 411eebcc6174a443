-- Reconciliation health per tenant: the latest run, and the last 7 days before as_of.

with

runs as (
    select * from {{ ref('stg_attribution__reconciliation_runs') }}
),

latest as (
    select
        runs.status as latest_status,
        runs.started_at_utc as latest_started_at,
        runs.finished_at_utc as latest_finished_at,
        cast(runs.tenant_id as varchar) as tenant_id,
        row_number() over (
            partition by runs.tenant_id order by runs.started_at_utc desc, runs.reconciliation_run_id asc
        ) as recency
    from runs
),

recent as (
    select
        cast(runs.tenant_id as varchar) as tenant_id,
        count(*) as runs_last_7_days,
        count(case when runs.status = 'failed' then 1 end) as failed_runs_last_7_days,
        count(case when runs.status = 'running' then 1 end) as unfinished_runs_last_7_days,
        sum(runs.mismatches) as mismatches_last_7_days
    from runs
    where runs.started_at_utc >= {{ dbt.dateadd('day', -7, "cast('" ~ as_of_timestamp() ~ "' as timestamp)") }}
    group by 1
)

select
    latest.tenant_id,
    latest.latest_status,
    latest.latest_started_at,
    latest.latest_finished_at,
    cast(coalesce(recent.mismatches_last_7_days, 0) as bigint) as mismatches_last_7_days,
    coalesce(recent.runs_last_7_days, 0) as runs_last_7_days,
    coalesce(recent.failed_runs_last_7_days, 0) as failed_runs_last_7_days,
    coalesce(recent.unfinished_runs_last_7_days, 0) as unfinished_runs_last_7_days
from latest
left join recent on latest.tenant_id = recent.tenant_id
where latest.recency = 1
