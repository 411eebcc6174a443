-- Attribution events repeating an earlier (tenant, idempotency key): not counted again.

with

checked as (
    select * from {{ ref('base_attribution__events_checked') }}
    where idempotency_rank > 1
)

select
    event_id,
    tenant_id,
    idempotency_key,
    created_at_utc,
    is_past_retention
from checked
