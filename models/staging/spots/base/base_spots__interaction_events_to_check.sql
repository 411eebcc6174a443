{{ config(materialized='ephemeral') }}

-- The raw SPOTS rows of the days stg_spots__interaction_events_days marks to check, each
-- with the first staging rule it breaks, ranked among every copy of its event_id (macro
-- spots_checked_events): what the incremental builds of the staging models re-validate.
-- Ephemeral: it carries raw identifiers, so it is never written anywhere.

{#- the range prefilter reads the days table when this compiles: not before its first build (dbt compile, lint) -#}
{% set days_built = execute and spots_model_relation('stg_spots__interaction_events_days') is not none %}
{{ spots_checked_events('select checked_days.check_day from '
    ~ ref('stg_spots__interaction_events_days') ~ ' as checked_days where checked_days.to_check',
    prefilter_scope=days_built) }}
