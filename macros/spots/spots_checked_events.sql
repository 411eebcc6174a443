{#-
    The SPOTS staging rules (docs/analytics_engineer.md "Incremental builds"), shared by the full validation
    (base_spots__interaction_events_checked), the incremental one (..._to_check), the
    day bookkeeping (stg_spots__interaction_events_days) and the reconciliation test.
-#}

{#- The floor below which occurred_at is rejected (var spots_occurred_at_floor), as a SQL timestamp. -#}
{% macro spots_occurred_at_floor() -%}
    cast('{{ var("spots_occurred_at_floor", "2000-01-01") }}' as timestamp)
{%- endmacro %}

{#-
    The UTC day a raw row is checked with (its "check day"): the UTC day of occurred_at, or
    the day before spots_occurred_at_floor for every row whose occurred_at is missing,
    infinite or before the floor (those rows are always quarantined; one bucket holds them).
    A row's check day never changes, whatever the clock.
-#}
{% macro spots_check_day(occurred_at) -%}
    case
        when
            {{ occurred_at }} is null
            or not {{ timestamp_is_finite(occurred_at) }}
            or {{ utc_timestamp(occurred_at) }} < {{ spots_occurred_at_floor() }}
            then {{ dbt.dateadd('day', -1, spots_occurred_at_floor()) }}
        else {{ dbt.date_trunc('day', utc_timestamp(occurred_at)) }}
    end
{%- endmacro %}

{#-
    True for the check days that can hold events the delay holds back: days that end after
    the release cutoff and start no later than as_of. A valid event of any other day is
    staged (its hour ended by the cutoff) or is after as_of (quarantined).
-#}
{% macro spots_day_may_hold_back(day_column) -%}
    (
        {{ dbt.dateadd('day', 1, day_column) }} > {{ release_cutoff() }}
        and {{ day_column }} <= cast('{{ as_of_timestamp() }}' as timestamp)
    )
{%- endmacro %}

{#-
    A predicate on occurred_at (a raw timestamp with time zone) true for every raw row whose
    check day is one of the scope's (a query of check days that runs on its own), run when
    the model compiles: a constant range, [first day, last day + 1 day) in UTC, or false for an
    empty scope. It changes no result beside the check-day test; it lets a scan filter
    before any check day is computed: the postgres target's scanner sends a constant range to
    PostgreSQL as a WHERE (the check-day expression stays in DuckDB, so without it the whole
    raw table crosses over), and DuckDB and Spark compare a stored column first. True (no
    filter) outside execution and when the scope holds the bucket of missing, infinite and
    too early timestamps, whose rows lie in no range.
-#}
{% macro spots_scope_prefilter(scope_days, occurred_at) -%}
    {%- if not execute -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set bounds -%}
        select
            count(*) as days,
            min(scope.check_day) as first_day,
            max(scope.check_day) as last_day,
            sum(case when scope.check_day < {{ spots_occurred_at_floor() }} then 1 else 0 end) as invalid_bucket
        from ({{ scope_days }}) as scope
    {%- endset -%}
    {%- set row = run_query(bounds).rows[0] -%}
    {%- if row[0] == 0 -%}
        {{ return('false') }}
    {%- elif row[3] > 0 -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set first_day = utc_instant(row[1]) -%}
    {%- set end_day = utc_instant(row[2] + modules.datetime.timedelta(days=1)) -%}
    {{ return('(' ~ occurred_at ~ ' >= ' ~ first_day ~ ' and ' ~ occurred_at ~ ' < ' ~ end_day ~ ')') }}
{%- endmacro %}

{#-
    A select of raw SPOTS rows with the first staging rule each breaks.

    scope_days: none for every raw row; else a query returning one column of check days,
    and only rows of those days are returned, ranked among every copy of their event_id,
    whatever day the copy is on. Where the other copies are found:
    - first_copies (the relation of stg_spots__interaction_events_first_copies, as the last
      build left it), given: the copy kept for each event_id, keyed by event_id. A scope
      row whose event_id's kept copy is on a day outside the scope ranks after it (every
      copy outside the scope is unchanged and never came before that one; a copy that could
      come before it, or tie with it, puts that day in the scope: the days model,
      docs/incremental_builds.md). Only the scope's raw rows are read.
    - otherwise (a full build's reconciliation, Spark's first-copy table) every raw row with
      one of the scope's event_ids on another day: the raw table is read twice, by check
      day and by event_id.
    prefilter_scope: scope_days can run when the model compiles (it reads only tables, no CTE
    of the caller, and they exist): the rows of the scope are then first filtered by the
    constant range of occurred_at the scope's days span (macro spots_scope_prefilter), and
    an empty scope reads no raw row at all (not even the lookup of other copies: a build
    with no day to check costs no scan of history).

    Rules, in order: identifiers present and not blank (blank = Unicode whitespace or
    zero-width characters only, macro trim_blank); occurred_at present, finite, not before
    var spots_occurred_at_floor (2000-01-01) and not after as_of (the run's "now"); a
    location on the globe; event type, door type and category from the seeds.
    Then, among rows that break no rule but the clock's, one row per event_id: the first by
    ingested_at (ties: occurred_at, then the row's other fields, so the choice is stable and
    the same at every as_of, which incremental staging relies on: a later clock never picks
    another copy of an event already staged); the other copies get rejection_reason
    'event_id: duplicate ...' and is_duplicate.
-#}
{% macro spots_checked_events(scope_days=none, prefilter_scope=false, first_copies=none) -%}
{%- set future_rule = 'occurred_at: after as_of (in the future)' -%}
{#- 'false' for an empty scope: then neither read of the raw table below reads a row (no lookup of other copies) -#}
{%- set prefilter = spots_scope_prefilter(scope_days, 'raw_events.occurred_at') if scope_days is not none and prefilter_scope else 'true' -%}
with

{% if scope_days is none %}
    source as (
        select
            raw_events.*,
            {{ spots_check_day('raw_events.occurred_at') }} as check_day
        from {{ source('spots', 'spots_interaction_events') }} as raw_events
    ),
{% else %}
    scope_days as (
        {{ scope_days }}
    ),

    scope_rows as (
        select
            raw_events.*,
            {{ spots_check_day('raw_events.occurred_at') }} as check_day
        from {{ source('spots', 'spots_interaction_events') }} as raw_events
        where
            {% if prefilter != 'true' %}{{ prefilter }} and {% endif %}
            {{ spots_check_day('raw_events.occurred_at') }} in (select scope_days.check_day from scope_days)
    ),

    {% if first_copies is not none %}
        source as (
            select * from scope_rows
        ),

        -- the kept copies of the scope's event ids that are on other days
        stored_first_copies as (
            select first_copies.event_id
            from {{ first_copies }} as first_copies
            where
                {% if prefilter == 'false' %}false and {% endif %}
                first_copies.event_id in (select scope_rows.event_id from scope_rows)
                and first_copies.occurred_day not in (select scope_days.check_day from scope_days)
        ),
    {% else %}
        -- the other copies of the scope's event ids, wherever they are
        source as (
            select * from scope_rows
            union all
            select
                raw_events.*,
                {{ spots_check_day('raw_events.occurred_at') }} as check_day
            from {{ source('spots', 'spots_interaction_events') }} as raw_events
            where
                {% if prefilter == 'false' %}false and {% endif %}
                raw_events.event_id in (select scope_rows.event_id from scope_rows)
                and {{ spots_check_day('raw_events.occurred_at') }} not in (select scope_days.check_day from scope_days)
        ),
    {% endif %}
{% endif %}

event_types as (
    select * from {{ ref('event_types') }}
),

door_types as (
    select * from {{ ref('door_types') }}
),

categories as (
    select * from {{ ref('categories') }}
),

checked as (
    select
        source.*,
        event_types.counts_as_door_opened,
        case
            when source.event_id is null or {{ trim_blank('source.event_id') }} = '' then 'event_id: missing'
            when source.user_id is null or {{ trim_blank('source.user_id') }} = '' then 'user_id: missing'
            when source.occurred_at is null then 'occurred_at: missing'
            when not {{ timestamp_is_finite('source.occurred_at') }} then 'occurred_at: not a finite timestamp'
            when
                {{ utc_timestamp('source.occurred_at') }} < {{ spots_occurred_at_floor() }}
                then 'occurred_at: before {{ var("spots_occurred_at_floor", "2000-01-01") }}'
            when {{ utc_timestamp('source.occurred_at') }} > cast('{{ as_of_timestamp() }}' as timestamp)
                then '{{ future_rule }}'
            when source.latitude is null or source.longitude is null then 'latitude/longitude: missing'
            when source.latitude not between -90 and 90 then 'latitude: outside [-90, 90]'
            when source.longitude not between -180 and 180 then 'longitude: outside [-180, 180]'
            when event_types.event_type is null then 'event_type: not in seed event_types'
            when door_types.door_type is null then 'door_type: not in seed door_types'
            when categories.category is null then 'category: not in seed categories'
        end as rule_broken
    from source
    left join event_types on source.event_type = event_types.event_type
    left join door_types on source.door_type = door_types.door_type
    left join categories on source.category = categories.category
),

{% set rankable = "(checked.rule_broken is null or checked.rule_broken = '" ~ future_rule ~ "')" %}
{% set stored = scope_days is not none and first_copies is not none %}
ranked as (
    select
        checked.*,
        case
            when {{ rankable }} then
                row_number() over (
                    partition by checked.event_id, {{ rankable }}
                    order by
                        checked.ingested_at nulls last,
                        checked.occurred_at,
                        checked.user_id,
                        checked.latitude,
                        checked.longitude,
                        checked.event_type, checked.door_type, checked.category, checked.message
                )
                {%- if stored %}
                    -- after the kept copy on a day outside the scope
                    + case when stored_first_copies.event_id is null then 0 else 1 end
                {%- endif %}
        end as event_id_rank
    from checked
    {%- if stored %}
        left join stored_first_copies on checked.event_id = stored_first_copies.event_id
    {%- endif %}
)

-- the raw columns staging reads, as the source defines them;
-- the other identifiers (agent, device, IP, AI signature) and the free text stop here
select
    ranked.event_id,
    ranked.user_id,
    ranked.event_type,
    ranked.counts_as_door_opened,
    ranked.door_type,
    ranked.category,
    ranked.occurred_at,
    ranked.latitude,
    ranked.longitude,
    ranked.ingested_at,
    ranked.check_day,
    ranked.event_id_rank,
    coalesce(ranked.event_id_rank, 1) > 1 as is_duplicate,
    case
        when ranked.event_id_rank > 1 then 'event_id: duplicate (the first copy by ingested_at is kept)'
        else ranked.rule_broken
    end as rejection_reason
from ranked
{%- if scope_days is not none %}
    where ranked.check_day in (select scope_days.check_day from scope_days)
{%- endif %}
{%- endmacro %}
