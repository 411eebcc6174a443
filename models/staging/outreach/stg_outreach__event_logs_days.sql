-- Incremental outreach staging, step one (docs/analytics_engineer.md "Incremental builds"): one row per UTC day
-- of created_at in the raw outreach table (macro outreach_check_day) with its raw row count
-- and whether this build must check the day again. Built before the three staging models,
-- from their state as the last build left it; they re-validate only the days marked to_check.
--
-- Outreach staging does not depend on as_of, and raw rows are only ever added, so a day is
-- checked again when its raw rows differ in number from its rows in staging, quarantine and
-- duplicates (new rows, whatever their created_at says), or when it holds a valid row whose
-- client_event_id a valid row of such a day also carries (the first row of that id, and the
-- row its duplicates name, may change). Every other day stays exactly what a full build
-- computes. On a first build or --full-refresh every day is checked.

{% set incremental = execute and not flags.FULL_REFRESH %}
{% if incremental %}
    {% set staging = spots_model_relation('stg_outreach__event_logs') %}
    {% set quarantine = spots_model_relation('stg_outreach__event_logs_quarantine') %}
    {% set duplicates = spots_model_relation('stg_outreach__event_logs_duplicates') %}
    {% set incremental = staging is not none and quarantine is not none and duplicates is not none %}
{% endif %}

with

raw_days as (
    select
        {{ outreach_check_day("cast(raw_logs.created_at at time zone 'UTC' as timestamp)") }} as check_day,
        count(*) as raw_rows
    from {{ source('outreach', 'outreach_event_logs') }} as raw_logs
    group by 1
),

{% if incremental %}
    accounted as (
        select
            {{ outreach_check_day('staged.created_at_utc') }} as check_day,
            count(*) as accounted_rows
        from {{ staging }} as staged
        group by 1
        union all
        select
            {{ outreach_check_day('quarantined.created_at_utc') }} as check_day,
            count(*) as accounted_rows
        from {{ quarantine }} as quarantined
        group by 1
        union all
        select
            {{ outreach_check_day('copies.created_at_utc') }} as check_day,
            count(*) as accounted_rows
        from {{ duplicates }} as copies
        group by 1
    ),

    accounted_days as (
        select
            check_day,
            sum(accounted_rows) as accounted_rows
        from accounted
        group by 1
    ),

    changed_days as (
        select raw_days.check_day
        from raw_days
        left join accounted_days on raw_days.check_day = accounted_days.check_day
        where raw_days.raw_rows != coalesce(accounted_days.accounted_rows, 0)
    ),

    -- the changed days' rows and every row of their client_event_ids
    copies as (
        {{ outreach_checked_events('select changed_days.check_day from changed_days', keep_copies=true) }}
    ),

    changed_ids as (
        select distinct copies.client_event_id
        from copies
        where
            copies.client_event_rank is not null
            and copies.check_day in (select changed_days.check_day from changed_days)
    ),

    days_to_check as (
        select changed_days.check_day from changed_days
        union
        select copies.check_day
        from copies
        where
            copies.client_event_rank is not null
            and copies.client_event_id in (select changed_ids.client_event_id from changed_ids)
    )
{% else %}
    days_to_check as (
        select raw_days.check_day from raw_days
    )
{% endif %}

select
    raw_days.check_day,
    raw_days.raw_rows,
    days_to_check.check_day is not null as to_check,
    {{ spots_run_started_at() }} as checked_at
from raw_days
left join days_to_check on raw_days.check_day = days_to_check.check_day
