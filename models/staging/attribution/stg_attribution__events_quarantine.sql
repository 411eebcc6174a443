-- Attribution events whose payload carries a contract-003 PII key (the PostgreSQL trigger
-- would have rejected them), with the key found. The payload is not copied.

with

checked as (
    select * from {{ ref('base_attribution__events_checked') }}
    where pii_key is not null
)

select
    event_id,
    tenant_id,
    created_at_utc,
    'raw_payload: PII key "' || pii_key || '" is not allowed' as rejection_reason
from checked
