{#-
    Generic test on bounded contributions: no participant has more than
    max_cells_per_participant cells in a release period, nor more than
    max_opens_per_cell doors opened in a cell. Returns offending (granularity, period,
    participant) groups, counted only: no pseudonym is returned.
-#}
{% test contribution_bounds_respected(model) %}
with

per_participant as (
    select
        granularity,
        period_start,
        participant_key,
        count(*) as cells,
        max(doors_opened_clamped) as max_doors_opened
    from {{ model }}
    group by granularity, period_start, participant_key
)

select
    granularity,
    period_start,
    count(*) as participants_over_bound
from per_participant
where cells > {{ spots_release_param_by_granularity('max_cells_per_participant') }}
    or max_doors_opened > {{ spots_release_param_by_granularity('max_opens_per_cell') }}
group by granularity, period_start
{% endtest %}
