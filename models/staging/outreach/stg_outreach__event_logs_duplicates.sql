-- Valid outreach rows repeating an earlier client_event_id: not counted again (contract
-- 004 idempotency). Each row names the event that was kept.
-- Incremental by UTC day of created_at, like stg_outreach__event_logs.

{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
{{ config(pre_hook="{{ outreach_clear_checked_days() }}") }}
-- depends_on: {{ ref('stg_outreach__event_logs_days') }}
{% if not execute %}-- depends_on: {{ ref('base_outreach__event_logs_to_check') }}{% endif %}
-- depends_on: {{ ref('stg_outreach__event_logs') }}

with

checked as (
    {% if is_incremental() and days_checked_now('stg_outreach__event_logs_days') %}
        select * from {{ ref('base_outreach__event_logs_to_check') }}
    {% else %}
        select * from {{ ref('base_outreach__event_logs_checked') }}
    {% endif %}
    where client_event_rank > 1
)

select
    outreach_event_id,
    client_event_id,
    created_at_utc,
    kept_outreach_event_id
from checked
