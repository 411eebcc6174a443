{#-
    Generic test on bounded contributions: every participant has exactly one cell per
    release period, and its doors opened are within max_opens_per_participant. Returns
    offending (granularity, period) groups, counted only: no pseudonym is returned.
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
where cells != 1
    or max_doors_opened > {{ spots_release_param_by_granularity('max_opens_per_participant') }}
group by granularity, period_start
{% endtest %}
