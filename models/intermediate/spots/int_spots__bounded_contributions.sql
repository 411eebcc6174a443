{{ config(materialized='ephemeral') }}

-- Contribution bounding per level, the basis of every sensitivity (DESIGN.md §2.1,
-- docs/privacy_reviewer.md "Contribution bounds"). For each measured level L of a release
-- period (day and week: city, city x door type, city x category, city x segment; hour: the
-- city x hour cells of the city level), a participant's doors opened are summed to the
-- level's cells and the participant keeps at most C_L of them
-- (var spots_release: levels.<level>.max_cells_per_participant). So one person changes at
-- most C_L cells of a level, each by at most 1 participant, M doors opened and 1 repeater;
-- each level's counts come from its own bounded rows (int_spots__cell_aggregates.level).
-- The cells are drawn by an exponential race on a keyed hash: each finest cell gets
-- -ln(1 - u) / doors, a level cell the smallest value of its finest cells (an exponential
-- draw at the rate of the level cell's doors), and the C_L smallest win: a draw without
-- replacement in proportion to doors opened, depending neither on data order nor on
-- anything a participant controls. The finest cells' values are those of one draw for every
-- level, so with C_L = 1 at every level each person sits in the roll-up of the same finest
-- cell at every level.
-- One city per participant and period: the city level keeps one cell (C_city = 1, enforced by
-- the release policy) and the finer levels keep cells of that city only (home_city, the city
-- of the participant's smallest race value, which is the city level's draw). A city whose
-- noisy participants miss a level's minimum spends that level's share on a second city
-- measurement instead (dp/release.py); with every finer cell in the home city a person
-- reaches either that measurement or the level's cells, never both, so a period costs its
-- epsilon. Cells in another city would reach both.
--   doors_opened_clamped  the participant's doors opened in the level cell, clamped to M
--   is_repeater           the participant opened at least two doors in the level cell

with

contributions as (
    select * from {{ ref('int_spots__contributions') }}
),

raced as (
    select
        contributions.*,
        -ln(1 - {{ keyed_uniform(["'bound'", 'participant_key', 'granularity',
            'cast(time_bucket_start_utc as string)', 'geo_bucket_id', 'door_type', 'category',
            'context']) }}) / contributions.doors_opened as race
    from contributions
),

homed as (
    select
        raced.*,
        first_value(raced.geo_bucket_id) over (
            partition by raced.granularity, raced.period_start, raced.participant_key
            order by raced.race, raced.geo_bucket_id, raced.time_bucket_start_utc
        ) as home_city
    from raced
),

{%- set dimensions = {
    'city': ("'all'", "'all'", "'all'"),
    'city_door_type': ('door_type', "'all'", "'all'"),
    'city_category': ("'all'", 'category', "'all'"),
    'city_segment': ('door_type', 'category', 'context'),
} %}

level_cells as (
    {% for granularity in spots_enabled_granularities() %}
        {%- set outer_loop = loop %}
        {%- for level in spots_levels(granularity) %}
            {%- set door, category, context = ('door_type', 'category', 'context') if granularity == 'hour'
                else dimensions[level] %}
            select
                granularity,
                period_start,
                '{{ level }}' as level,  -- noqa: RF04
                time_bucket_start_utc,
                geo_bucket_id,
                {{ door }} as door_type,
                {{ category }} as category,
                {{ context }} as context,
                participant_key,
                sum(doors_opened) as doors_opened,
                min(race) as race
            from homed
            where
                granularity = '{{ granularity }}'
                {%- if level != 'city' %}
                    and geo_bucket_id = home_city
                {%- endif %}
            group by 1, 2, 3, 4, 5, 6, 7, 8, 9
            {% if not (loop.last and outer_loop.last) %}union all{% endif %}
        {%- endfor %}
    {% endfor %}
),

ranked as (
    select
        level_cells.*,
        row_number() over (
            partition by
                level_cells.granularity, level_cells.period_start, level_cells.level, level_cells.participant_key
            order by
                level_cells.race,
                level_cells.geo_bucket_id,
                level_cells.door_type,
                level_cells.category,
                level_cells.context,
                level_cells.time_bucket_start_utc
        ) as cell_rank
    from level_cells
)

select
    granularity,
    period_start,
    level,
    time_bucket_start_utc,
    geo_bucket_id,
    door_type,
    category,
    context,
    participant_key,
    least(doors_opened, {{ spots_release_param_by_granularity('max_opens_per_participant') }})
        as doors_opened_clamped,
    doors_opened >= 2 as is_repeater
from ranked
where cell_rank <= {{ spots_release_param_by_level('max_cells_per_participant') }}
