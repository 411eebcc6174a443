{{ config(materialized='ephemeral') }}

-- The raw outreach rows of the days stg_outreach__event_logs_days marks to check, as
-- base_outreach__event_logs_checked computes them (each ranked among every row of its
-- client_event_id, on any day): what incremental builds of outreach staging re-validate.
-- Ephemeral: it carries session ids and is never written on its own.

{{ outreach_checked_events('select checked_days.check_day from '
    ~ ref('stg_outreach__event_logs_days') ~ ' as checked_days where checked_days.to_check') }}
