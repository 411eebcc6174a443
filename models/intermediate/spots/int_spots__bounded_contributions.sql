{{ config(materialized='ephemeral') }}

-- Contribution bounding, the basis of every sensitivity (DESIGN.md §2.1): each participant
-- contributes to exactly ONE cell per release period, so every level of the release (city,
-- city x door type, city x category, city x segment) is a sum of these cells and one
-- person changes one cell of each level by at most 1 participant, M doors opened and 1
-- repeater. The cell is drawn with probability proportional to the participant's doors
-- opened in it (an exponential race on a keyed hash: -ln(1 - u) / doors, smallest wins),
-- so each cell's expected doors opened equal its true ones (up to the clamp); the draw
-- depends neither on data order nor on anything a participant controls.
--   doors_opened_clamped  the participant's doors opened in the whole period, clamped to M
--   is_repeater           the participant opened at least two doors in the period

with

contributions as (
    select * from {{ ref('int_spots__contributions') }}
),

ranked as (
    select
        contributions.*,
        row_number() over (
            partition by contributions.granularity, contributions.period_start, contributions.participant_key
            order by
                -ln(1 - {{ keyed_uniform(["'bound'", 'participant_key', 'granularity',
                    'cast(time_bucket_start_utc as string)', 'geo_bucket_id', 'door_type', 'category',
                    'context']) }}) / contributions.doors_opened,
                contributions.geo_bucket_id,
                contributions.door_type,
                contributions.category,
                contributions.context,
                contributions.time_bucket_start_utc
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
    least(period_doors_opened, {{ spots_release_param_by_granularity('max_opens_per_participant') }})
        as doors_opened_clamped,
    period_doors_opened >= 2 as is_repeater
from ranked
where cell_rank = 1
