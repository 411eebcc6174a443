-- Every raw SPOTS event is accounted for: staged, held back by the release delay,
-- quarantined with a reason, or a later copy of an event_id (duplicates). Never silently
-- dropped. Checked per check day (the UTC day of occurred_at, macro spots_check_day; the
-- staging models carry it as day_start and occurred_day), so a row counted on the wrong
-- day fails too. Returns a row for each day whose counts differ, named by failed_check.
-- Held back rows are counted by validating again only the days that can hold them (days
-- ending after the release cutoff and starting by as_of, macro spots_day_may_hold_back):
-- on every other day a valid event is staged or after as_of.
-- When this invocation built the per-day summary (stg_spots__interaction_events_day_counts),
-- each day's stored summary must equal the recount too. The first-copy table
-- (stg_spots__interaction_events_first_copies) holds one row per event kept: per day, the
-- staged + held back + quarantined as after as_of rows; on a full check (var full_check) it
-- must hold exactly the copies a full validation of every raw row keeps.
--
-- Which days (docs/incremental_builds.md): a full build, --full-refresh, a full check (var
-- full_check) or a build without the days model, the summary or a staging model reconciles
-- every day. An incremental build of them all (macro spots_reconcile_checked_days_only)
-- reconciles the days it checked, reading only their raw rows, and the whole tables'
-- counts against the stored summaries of the others (a day not checked kept its rows and
-- its summary, both reconciled by the build that last checked it).
-- depends_on: {{ ref('stg_spots__interaction_events_days') }}
-- depends_on: {{ ref('stg_spots__interaction_events_day_counts') }}
-- depends_on: {{ ref('stg_spots__interaction_events_first_copies') }}

{% set checked_only = spots_reconcile_checked_days_only() %}
{% set summary_node = 'model.privacy_insights.stg_spots__interaction_events_day_counts' %}
{% set summary_built = execute and summary_node in selected_resources %}
{% set summary = ref('stg_spots__interaction_events_day_counts') %}
{% set scope = spots_days_to_check() %}
{% set first_copies = ref('stg_spots__interaction_events_first_copies') %}
{% set future_rule = 'occurred_at: after as_of (in the future)' %}

with

{% if checked_only %}
    checked_days as (
        {{ scope }}
    ),
{% endif %}

raw_rows as (
    select
        {{ spots_check_day('raw_events.occurred_at') }} as check_day,
        count(*) as raw_rows,
        0 as staged_rows,
        0 as held_back_rows,
        0 as quarantined_rows,
        0 as duplicate_rows
    from {{ source('spots', 'spots_interaction_events') }} as raw_events
    {% if checked_only %}
        where
            {{ spots_scope_prefilter(scope, 'raw_events.occurred_at') }}
            and {{ spots_check_day('raw_events.occurred_at') }} in (select checked_days.check_day from checked_days)
    {% endif %}
    group by 1
),

staged as (
    select
        day_start as check_day,
        0 as raw_rows,
        count(*) as staged_rows,
        0 as held_back_rows,
        0 as quarantined_rows,
        0 as duplicate_rows
    from {{ ref('stg_spots__interaction_events') }}
    {% if checked_only %}
        where day_start in (select checked_days.check_day from checked_days)
    {% endif %}
    group by 1
),

quarantined as (
    select
        occurred_day as check_day,
        0 as raw_rows,
        0 as staged_rows,
        0 as held_back_rows,
        count(*) as quarantined_rows,
        0 as duplicate_rows
    from {{ ref('stg_spots__interaction_events_quarantine') }}
    {% if checked_only %}
        where occurred_day in (select checked_days.check_day from checked_days)
    {% endif %}
    group by 1
),

duplicates as (
    select
        occurred_day as check_day,
        0 as raw_rows,
        0 as staged_rows,
        0 as held_back_rows,
        0 as quarantined_rows,
        count(*) as duplicate_rows
    from {{ ref('stg_spots__interaction_events_duplicates') }}
    {% if checked_only %}
        where occurred_day in (select checked_days.check_day from checked_days)
    {% endif %}
    group by 1
),

{% if checked_only %}
    held_back_candidates as (
        {% set hold_back_scope = scope ~ ' and ' ~ spots_day_may_hold_back('checked_days.check_day') %}
        {#- the first-copy table this build wrote: the copies kept on the days not in this scope -#}
        {{ spots_checked_events(hold_back_scope, prefilter_scope=true, first_copies=first_copies) }}
    ),
{% else %}
    held_back_days as (
        select raw_rows.check_day
        from raw_rows
        where {{ spots_day_may_hold_back('raw_rows.check_day') }}
    ),

    held_back_candidates as (
        {{ spots_checked_events('select held_back_days.check_day from held_back_days') }}
    ),
{% endif %}

held_back as (
    select
        held_back_candidates.check_day,
        0 as raw_rows,
        0 as staged_rows,
        count(*) as held_back_rows,
        0 as quarantined_rows,
        0 as duplicate_rows
    from held_back_candidates
    where
        held_back_candidates.rejection_reason is null
        and not {{ hour_is_past_delay(dbt.date_trunc('hour', utc_timestamp('held_back_candidates.occurred_at'))) }}
    group by 1
),

counts as (
    select * from raw_rows
    union all
    select * from staged
    union all
    select * from held_back
    union all
    select * from quarantined
    union all
    select * from duplicates
),

per_day as (
    select
        check_day,
        sum(raw_rows) as raw_rows,
        sum(staged_rows) as staged_rows,
        sum(held_back_rows) as held_back_rows,
        sum(quarantined_rows) as quarantined_rows,
        sum(duplicate_rows) as duplicate_rows
    from counts
    group by 1
),

-- events kept per day: staged + held back + quarantined as after as_of
kept as (
    select
        check_day,
        sum(first_copies) as first_copies,
        sum(future_rows) as future_rows
    from (
        select
            occurred_day as check_day,
            count(*) as first_copies,
            0 as future_rows
        from {{ first_copies }}
        {% if checked_only %}
            where occurred_day in (select checked_days.check_day from checked_days)
        {% endif %}
        group by 1
        union all
        select
            occurred_day as check_day,
            0 as first_copies,
            count(*) as future_rows
        from {{ ref('stg_spots__interaction_events_quarantine') }}
        where
            rejection_reason = '{{ future_rule }}'
            and {{ 'occurred_day in (select checked_days.check_day from checked_days)' if checked_only else 'true' }}
        group by 1
    ) as kept_parts
    group by 1
)

{% if checked_only %}
    , totals as (
        select
            (select count(*) from {{ source('spots', 'spots_interaction_events') }}) as raw_rows,
            (select count(*) from {{ ref('stg_spots__interaction_events') }}) as staged_rows,
            (select count(*) from {{ ref('stg_spots__interaction_events_quarantine') }}) as quarantined_rows,
            (select count(*) from {{ ref('stg_spots__interaction_events_duplicates') }}) as duplicate_rows,
            coalesce(sum(summary.raw_rows), 0) as summary_raw_rows,
            coalesce(sum(summary.staged_rows), 0) as summary_staged_rows,
            coalesce(sum(summary.held_back_rows), 0) as summary_held_back_rows,
            coalesce(sum(summary.quarantined_rows), 0) as summary_quarantined_rows,
            coalesce(sum(summary.duplicate_rows), 0) as summary_duplicate_rows,
            (select count(*) from {{ first_copies }}) as first_copies,
            coalesce(sum(summary.staged_rows + summary.held_back_rows + summary.future_rows), 0) as summary_kept_rows
        from {{ summary }} as summary
    )
{% endif %}

select
    'raw = staged + held back + quarantined + duplicates' as failed_check,
    per_day.*
from per_day
where
    per_day.raw_rows
    != per_day.staged_rows + per_day.held_back_rows + per_day.quarantined_rows + per_day.duplicate_rows

union all
select
    'the first-copy table holds one row per event kept (staged + held back + after as_of)' as failed_check,
    coalesce(per_day.check_day, kept.check_day) as check_day,
    per_day.raw_rows,
    per_day.staged_rows,
    per_day.held_back_rows,
    per_day.quarantined_rows,
    per_day.duplicate_rows
from per_day
full outer join kept on per_day.check_day = kept.check_day
where
    coalesce(per_day.staged_rows, 0) + coalesce(per_day.held_back_rows, 0) + coalesce(kept.future_rows, 0)
    != coalesce(kept.first_copies, 0)

{% if execute and var('full_check', false) == true %}
    union all
    select
        'the first-copy table holds the copies a full validation keeps (rows that differ)' as failed_check,
        differing.check_day,
        count(*) as raw_rows,
        cast(null as bigint) as staged_rows,
        cast(null as bigint) as held_back_rows,
        cast(null as bigint) as quarantined_rows,
        cast(null as bigint) as duplicate_rows
    from (
        (
            select event_id, ingested_at, occurred_day as check_day from {{ first_copies }}
            except
            select event_id, ingested_at, check_day from ({{ spots_checked_events() }}) as validated
            where validated.event_id_rank = 1
        )
        union all
        (
            select event_id, ingested_at, check_day from ({{ spots_checked_events() }}) as validated
            where validated.event_id_rank = 1
            except
            select event_id, ingested_at, occurred_day as check_day from {{ first_copies }}
        )
    ) as differing
    group by differing.check_day
{% endif %}

{% if summary_built %}
    union all
    select
        'the stored per-day summary equals the recount' as failed_check,
        per_day.*
    from per_day
    left join {{ summary }} as summary on per_day.check_day = summary.check_day
    where
        summary.check_day is null
        or summary.raw_rows != per_day.raw_rows
        or summary.staged_rows != per_day.staged_rows
        or summary.held_back_rows != per_day.held_back_rows
        or summary.quarantined_rows != per_day.quarantined_rows
        or summary.duplicate_rows != per_day.duplicate_rows
{% endif %}

{% if summary_built and not checked_only %}
    union all
    select
        'a stored per-day summary for a day without raw rows' as failed_check,
        summary.check_day,
        summary.raw_rows,
        summary.staged_rows,
        summary.held_back_rows,
        summary.quarantined_rows,
        summary.duplicate_rows
    from {{ summary }} as summary
    where summary.check_day not in (select per_day.check_day from per_day)
{% endif %}

{% if checked_only %}
    union all
    select
        'every table holds what its stored per-day summaries add up to, and raw = the rest' as failed_check,
        cast(null as timestamp) as check_day,
        totals.raw_rows,
        totals.staged_rows,
        totals.summary_held_back_rows as held_back_rows,
        totals.quarantined_rows,
        totals.duplicate_rows
    from totals
    where
        totals.raw_rows != totals.staged_rows + totals.summary_held_back_rows + totals.quarantined_rows + totals.duplicate_rows
        or totals.summary_raw_rows != totals.raw_rows
        or totals.summary_staged_rows != totals.staged_rows
        or totals.summary_quarantined_rows != totals.quarantined_rows
        or totals.summary_duplicate_rows != totals.duplicate_rows
        or totals.first_copies != totals.summary_kept_rows
{% endif %}
