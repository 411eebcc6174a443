-- Revenue per tenant, channel and current ledger state per UTC day (day the ledger entry
-- was created). Only ledger entries of counted events (clean, de-duplicated, within
-- retention) are included.

with

ledger as (
    select * from {{ ref('stg_attribution__revenue_ledger') }}
),

events as (
    select * from {{ ref('stg_attribution__events') }}
)

select
    cast(ledger.tenant_id as varchar) as tenant_id,
    cast({{ dbt.date_trunc('day', 'ledger.created_at_utc') }} as date) as revenue_date,
    events.channel_code,
    ledger.state,
    ledger.currency,
    count(*) as ledger_entries,
    cast(sum(ledger.amount_cents) as bigint) as amount_cents
from ledger
inner join events on ledger.event_id = events.event_id and ledger.tenant_id = events.tenant_id
group by 1, 2, 3, 4, 5
