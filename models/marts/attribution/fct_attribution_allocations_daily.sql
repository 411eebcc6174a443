-- Revenue allocated to channels per tenant per UTC day, for counted events only.

with

allocations as (
    select * from {{ ref('stg_attribution__allocations') }}
),

events as (
    select * from {{ ref('stg_attribution__events') }}
)

select
    cast(allocations.tenant_id as varchar) as tenant_id,
    cast({{ dbt.date_trunc('day', 'allocations.created_at_utc') }} as date) as allocation_date,
    allocations.channel_code,
    count(*) as allocations,
    cast(sum(allocations.allocated_revenue_cents) as bigint) as allocated_revenue_cents,
    avg(allocations.confidence_score) as avg_confidence_score
from allocations
inner join events on allocations.event_id = events.event_id and allocations.tenant_id = events.tenant_id
group by 1, 2, 3
