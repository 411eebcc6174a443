-- Incremental SPOTS staging, step one (docs/analytics_engineer.md "Incremental builds"): one row per check day
-- of the raw table (the UTC day of occurred_at; one bucket for missing, infinite or too
-- early timestamps, macro spots_check_day) with its raw row count and whether this build
-- must check the day again. Built before the three staging models, from their state as the
-- last build left it; they re-validate only the days marked to_check.
--
-- A day is checked again when
--   - its raw rows differ in number from the rows staged, quarantined and listed as
--     duplicates for it: raw rows are only ever added, so it has new rows (whatever their
--     ingested_at says) or rows the delay held back the last time;
--   - it holds rows quarantined as after as_of and starts no later than as_of (the clock
--     moved past some of them), or staged rows the delay now holds back (an earlier as_of);
--   - it holds the copy kept until now (stg_spots__interaction_events_first_copies, looked up
--     by event_id) of an event_id with a row on a day checked (above) that arrived no later:
--     that row may now come first (ties are ranked with the day's rows);
--   - it holds a later copy of an event whose kept copy, quarantined as after as_of, is on a
--     day checked: once the clock passes it, it may break another rule and no longer be kept
--     (macro spots_promoted_days).
-- Without a first-copy table (its first build, or a build that restaged without it dropped
-- it) every day is checked.
-- Every other day's staged rows, quarantine and duplicates stay exactly what a full build
-- computes. On a first build or --full-refresh every day is checked.
--
-- When the raw table and the staging tables hold as many rows as the per-day summary the
-- last build stored says (macro spots_days_from_summary: nothing was added), the counts come
-- from that summary (stg_spots__interaction_events_day_counts) and no raw row is read: a day
-- is checked again only when the clock moved past rows it held back or quarantined as after
-- as_of, or now holds back rows it staged. Otherwise, and on a full check (var full_check,
-- --full-refresh), every raw row is counted per day as above.
-- depends_on: {{ ref('event_types') }}
-- depends_on: {{ ref('door_types') }}
-- depends_on: {{ ref('categories') }}

{% set future_rule = 'occurred_at: after as_of (in the future)' %}
{% set incremental = execute and not flags.FULL_REFRESH %}
{% if incremental %}
    {% set staging = spots_model_relation('stg_spots__interaction_events') %}
    {% set quarantine = spots_model_relation('stg_spots__interaction_events_quarantine') %}
    {% set duplicates = spots_model_relation('stg_spots__interaction_events_duplicates') %}
    {% set incremental = staging is not none and quarantine is not none and duplicates is not none %}
{% endif %}
{% if incremental %}
    {#- a warehouse built before the quarantine carried occurred_day: every day, until --full-refresh -#}
    {% set quarantine_columns = adapter.get_columns_in_relation(quarantine) | map(attribute='name') | map('lower') | list %}
    {% set incremental = 'occurred_day' in quarantine_columns %}
{% endif %}
{% if incremental %}
    {#- the first-copy table: without it (its first build; a build that restaged without it dropped it) every day -#}
    {% set first_copies = spots_first_copies_lookup() %}
    {% set incremental = first_copies is not none %}
{% endif %}
{% set from_summary = incremental and spots_days_from_summary() %}

with

{% if from_summary %}
    {% set summary = spots_model_relation('stg_spots__interaction_events_day_counts') %}
    raw_days as (
        select
            summary.check_day,
            summary.raw_rows
        from {{ summary }} as summary
    ),

    clock_days as (
        select summary.check_day
        from {{ summary }} as summary
        where
            -- staged rows the clock now holds back (an earlier as_of)
            (summary.last_staged_hour is not null and not {{ hour_is_past_delay('summary.last_staged_hour') }})
            -- rows the delay held back, once the cutoff moved
            or (summary.held_back_rows > 0 and summary.checked_cutoff != {{ release_cutoff() }})
            -- rows quarantined as after as_of, once the clock moved and has reached the day
            or (
                summary.future_rows > 0
                and summary.checked_as_of != cast('{{ as_of_timestamp() }}' as timestamp)
                and summary.check_day <= cast('{{ as_of_timestamp() }}' as timestamp)
            )
    ),

    {{ spots_promoted_days('clock_days', quarantine, duplicates) }}
{% else %}
    raw_days as (
        select
            {{ spots_check_day('raw_events.occurred_at') }} as check_day,
            count(*) as raw_rows
        from {{ source('spots', 'spots_interaction_events') }} as raw_events
        group by 1
    ),

    {% if incremental %}
        accounted as (
            select
                staged.day_start as check_day,
                count(*) as accounted_rows,
                0 as future_rows,
                sum(case when {{ hour_is_past_delay('staged.hour_start') }} then 0 else 1 end) as staged_held_back_rows
            from {{ staging }} as staged
            group by 1
            union all
            select
                quarantined.occurred_day as check_day,
                count(*) as accounted_rows,
                sum(case when quarantined.rejection_reason = '{{ future_rule }}' then 1 else 0 end) as future_rows,
                0 as staged_held_back_rows
            from {{ quarantine }} as quarantined
            group by 1
            union all
            select
                copies.occurred_day as check_day,
                count(*) as accounted_rows,
                0 as future_rows,
                0 as staged_held_back_rows
            from {{ duplicates }} as copies
            group by 1
        ),

        accounted_days as (
            select
                check_day,
                sum(accounted_rows) as accounted_rows,
                sum(future_rows) as future_rows,
                sum(staged_held_back_rows) as staged_held_back_rows
            from accounted
            group by 1
        ),

        changed_days as (
            select raw_days.check_day
            from raw_days
            left join accounted_days on raw_days.check_day = accounted_days.check_day
            where
                raw_days.raw_rows != coalesce(accounted_days.accounted_rows, 0)
                or (
                    accounted_days.future_rows > 0
                    and raw_days.check_day <= cast('{{ as_of_timestamp() }}' as timestamp)
                )
                or accounted_days.staged_held_back_rows > 0
        ),

        -- the changed days' rows, with the staging rule each breaks at this clock
        changed_rows as (
            {{ spots_checked_events('select changed_days.check_day from changed_days', first_copies=first_copies) }}
        ),

        -- days holding the copy kept until this build for an event_id that a changed day's row
        -- may now come before (or tie with: the order of equal arrivals is decided by the
        -- rows' other fields, so that day is checked too), looked up by event_id in the
        -- first-copy table, not among every raw row
        displaced_days as (
            select distinct first_copies.occurred_day as check_day
            from changed_rows
            inner join {{ first_copies }} as first_copies on changed_rows.event_id = first_copies.event_id
            where
                (
                    changed_rows.rejection_reason is null
                    or changed_rows.rejection_reason = '{{ future_rule }}'
                    or changed_rows.is_duplicate
                )
                and first_copies.occurred_day not in (select changed_days.check_day from changed_days)
                and (
                    first_copies.ingested_at is null
                    or changed_rows.ingested_at <= first_copies.ingested_at
                )
        ),

        clock_and_new_days as (
            select changed_days.check_day from changed_days
            union
            select displaced_days.check_day from displaced_days
        ),

        {{ spots_promoted_days('clock_and_new_days', quarantine, duplicates) }}
    {% else %}
        days_to_check as (
            select raw_days.check_day from raw_days
        )
    {% endif %}
{% endif %}

select
    raw_days.check_day,
    raw_days.raw_rows,
    days_to_check.check_day is not null as to_check,
    {{ 'false' if from_summary else 'true' }} as raw_counted,
    {{ spots_run_started_at() }} as checked_at
from raw_days
left join days_to_check on raw_days.check_day = days_to_check.check_day
