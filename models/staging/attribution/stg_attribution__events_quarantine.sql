-- Attribution events whose payload carries a contract-003 PII key (the PostgreSQL trigger
-- would have rejected them), with the key found, or is not valid JSON (jsonb would have
-- refused it). The payload is not copied.

with

checked as (
    select * from {{ ref('base_attribution__events_checked') }}
    where rejection_reason is not null
)

select
    event_id,
    tenant_id,
    created_at_utc,
    rejection_reason
from checked
