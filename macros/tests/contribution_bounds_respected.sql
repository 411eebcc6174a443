{#-
    Generic test on bounded contributions: at each measured level, every participant has at
    most C_L cells per release period (levels.<level>.max_cells_per_participant) and the
    doors opened of each cell are within max_opens_per_participant. Returns offending
    (granularity, period, level) groups, counted only: no pseudonym is returned.
-#}
{% test contribution_bounds_respected(model) %}
with

per_participant as (
    select
        granularity,
        period_start,
        level,
        participant_key,
        count(*) as cells,
        max(doors_opened_clamped) as max_doors_opened
    from {{ model }}
    group by granularity, period_start, level, participant_key
)

select
    granularity,
    period_start,
    level,
    count(*) as participants_over_bound
from per_participant
where cells > {{ spots_release_param_by_level('max_cells_per_participant') }}
    or max_doors_opened > {{ spots_release_param_by_granularity('max_opens_per_participant') }}
group by granularity, period_start, level
{% endtest %}
