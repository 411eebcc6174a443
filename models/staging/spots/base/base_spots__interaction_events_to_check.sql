{{ config(materialized='ephemeral') }}

-- The raw SPOTS rows of the days stg_spots__interaction_events_days marks to check, each
-- with the first staging rule it breaks, ranked among every copy of its event_id (macro
-- spots_checked_events: the copies on other days are looked up by event_id in the first-copy
-- table the last build stored, stg_spots__interaction_events_first_copies, not among every
-- raw row): what the incremental builds of the staging models re-validate.
-- Ephemeral: it carries raw identifiers, so it is never written anywhere.

{#- the range prefilter reads the days table when this compiles: not before its first build (dbt compile, lint) -#}
{% set days_built = execute and spots_model_relation('stg_spots__interaction_events_days') is not none %}
{{ spots_checked_events('select checked_days.check_day from '
    ~ ref('stg_spots__interaction_events_days') ~ ' as checked_days where checked_days.to_check',
    prefilter_scope=days_built, first_copies=spots_first_copies_lookup()) }}
