-- Outreach rows that break a contract-004 rule, with the contract's error code and the
-- rule. No session id or other client value is copied here.
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
    where rejection is not null
)

select
    outreach_event_id,
    created_at_utc,
    split_part(rejection, ':', 1) as error_code,
    trim(substr(rejection, strpos(rejection, ':') + 1)) as error_detail
from checked
