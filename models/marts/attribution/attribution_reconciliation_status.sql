-- Reconciliation health per tenant: the latest run, and the last 7 days before as_of.

with

runs as (
    select * from {{ ref('stg_attribution__reconciliation_runs') }}
),

latest as (
    select
        tenant_id,
        status as latest_status,
        started_at_utc as latest_started_at,
        finished_at_utc as latest_finished_at,
        row_number() over (partition by tenant_id order by started_at_utc desc, reconciliation_run_id) as recency
    from runs
),

recent as (
    select
        tenant_id,
        count(*) as runs_last_7_days,
        sum(case when status = 'failed' then 1 else 0 end) as failed_runs_last_7_days,
        sum(case when status = 'running' then 1 else 0 end) as unfinished_runs_last_7_days,
        sum(mismatches) as mismatches_last_7_days
    from runs
    where started_at_utc >= {{ dbt.dateadd('day', -7, "cast('" ~ as_of_timestamp() ~ "' as timestamp)") }}
    group by tenant_id
)

select
    latest.tenant_id,
    latest.latest_status,
    latest.latest_started_at,
    latest.latest_finished_at,
    coalesce(recent.runs_last_7_days, 0) as runs_last_7_days,
    coalesce(recent.failed_runs_last_7_days, 0) as failed_runs_last_7_days,
    coalesce(recent.unfinished_runs_last_7_days, 0) as unfinished_runs_last_7_days,
    coalesce(recent.mismatches_last_7_days, 0) as mismatches_last_7_days
from latest
left join recent on latest.tenant_id = recent.tenant_id
where latest.recency = 1
