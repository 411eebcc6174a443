-- Exact per-cell aggregates of the bounded contributions over the public cell domain
-- (empty cells get zeros), one row per cell of every measured level. The last layer with
-- true counts: only the Python release model reads it, and it publishes nothing from it
-- without noise. Each level's counts come from its own bounded rows: a participant is in at
-- most C_L cells of level L per period (int_spots__bounded_contributions), so the levels
-- are not sums of one another.
--   participants   participants who kept this cell (one of their at most C_L cells of its level)
--   doors_opened   sum of their doors opened in this cell, each clamped to M
--   repeaters      those of them who opened at least two doors in this cell
-- Incremental by release period: a build recomputes every period from the aggregation
-- horizon on (macros/spots/spots_incremental.sql), so each period's numbers are those of
-- all its staged events, as in a full build.
-- On the split build (docs/spark.md) it is a view over the aggregates Spark handed off.

{#- One key column, not (granularity, period_start): dbt-duckdb deletes a composite key
    through a join, which on an attached PostgreSQL sends every target row's ctid once per
    matching new row (minutes for one day of cells). period_start alone is enough: a build
    writes every enabled granularity of every period from the horizon on. -#}
{%- if spots_handoff_dir() %}
    -- the aggregates Spark wrote, checked against this build's vars
    {{ config(materialized='view') }}
    {{ spots_handoff_select('int_spots__cell_aggregates') }}
{%- else %}
    {{ config(**period_incremental('period_start')) }}

    with

    {% set horizon = spots_aggregation_horizon() if is_incremental() else none %}
    domain as (
        select * from {{ ref('int_spots__cell_domain') }}
        -- every period of a full build (none starts before release_start_date), or those from the horizon on
        where period_start >= {{ horizon or release_start_timestamp() }}
    ),

    bounded as (
        select * from {{ ref('int_spots__bounded_contributions') }}
    ),

    aggregated as (
        select
            granularity,
            level,
            time_bucket_start_utc,
            geo_bucket_id,
            door_type,
            category,
            context,
            count(*) as participants,
            sum(doors_opened_clamped) as doors_opened,
            sum(case when is_repeater then 1 else 0 end) as repeaters
        from bounded
        group by 1, 2, 3, 4, 5, 6, 7
    )

    select
        domain.granularity,
        domain.period_start,
        domain.level,
        domain.time_bucket_start_utc,
        domain.geo_bucket_type,
        domain.geo_bucket_id,
        domain.door_type,
        domain.category,
        domain.context,
        -- explicit types: the same on every target and every incremental run
        cast(coalesce(aggregated.participants, 0) as bigint) as participants,
        cast(coalesce(aggregated.doors_opened, 0) as bigint) as doors_opened,
        cast(coalesce(aggregated.repeaters, 0) as bigint) as repeaters,
        {{ spots_run_started_at() }} as aggregated_at
    from domain
    left join aggregated
        on
            domain.granularity = aggregated.granularity
            and domain.level = aggregated.level
            and domain.time_bucket_start_utc = aggregated.time_bucket_start_utc
            and domain.geo_bucket_id = aggregated.geo_bucket_id
            and domain.door_type = aggregated.door_type
            and domain.category = aggregated.category
            and domain.context = aggregated.context
{%- endif %}
