{{ config(materialized='ephemeral') }}

-- Contribution bounding, the basis of every sensitivity (DESIGN.md §2.1):
-- per participant and release period, at most max_cells_per_participant cells are kept
-- and each kept cell counts at most max_opens_per_cell doors opened (clamped).
-- Which cells are kept is decided by a keyed hash of (participant, cell), so it depends
-- neither on data order nor on anything a participant controls.

with

contributions as (
    select * from {{ ref('int_spots__contributions') }}
),

ranked as (
    select
        contributions.*,
        row_number() over (
            partition by granularity, period_start, participant_key
            order by sha256(
                '{{ pseudonym_key() | replace("'", "''") }}|bound|' || participant_key
                || '|' || cast(time_bucket_start_utc as varchar) || '|' || geo_bucket_id
                || '|' || door_type || '|' || category || '|' || context
            )
        ) as cell_rank
    from contributions
)

select
    granularity,
    period_start,
    time_bucket_start_utc,
    geo_bucket_id,
    door_type,
    category,
    context,
    participant_key,
    least(doors_opened, {{ spots_release_param_by_granularity('max_opens_per_cell') }}) as doors_opened_clamped
from ranked
where cell_rank <= {{ spots_release_param_by_granularity('max_cells_per_participant') }}
