{{ config(materialized='table') }}

-- Raw attribution events with what the PostgreSQL landing zone would have enforced:
-- the first PII key in the payload (the trigger would have rejected the row), the rank
-- among rows of the same (tenant, idempotency key) (the unique index would have kept
-- the first), and whether the row is past the 90-day retention. A table, built once per
-- build: the three models and the test that read it (events, quarantine, duplicates,
-- reconcile_attribution_staging) each walked every payload's JSON tree again when it was
-- ephemeral. The payload is read here only and never written: the table holds the ids, the
-- PII key found (a key name) and the event's fields, as staging and quarantine do.
-- PII keys: every object key at any depth (json_tree decodes escapes such as \u0065),
-- normalised and matched exactly as the trigger and the Python stripper do
-- (macros/attribution/pii_keys.sql, generated from privacy_insights.attribution.pii_keys).
-- The normalisation (about fifty replacements and a translation per key) runs once per
-- distinct key, not once per key node: payloads repeat their keys (19 distinct keys among
-- 1.5 million key nodes at 10^7 SPOTS events), and per node it took most of this model's time.

with

source as (
    select * from {{ source('attribution', 'attribution_events') }}
),

payload_keys as (
    select
        cast(source.id as varchar) as event_id,
        node.id as node_id,
        node.key as payload_key
    from source
    cross join lateral json_tree(
        case when json_valid(cast(source.raw_payload as varchar)) then cast(source.raw_payload as varchar) end
    ) as node
    where node.key is not null
),

distinct_keys as (
    select distinct payload_key from payload_keys
),

normalised_keys as (
    select
        payload_key,
        {{ pii_key_normalised('payload_key') }} as normalised_key
    from distinct_keys
),

pii_keys as (
    select
        payload_key,
        {{ pii_contract_key('normalised_key') }} as pii_key
    from normalised_keys
),

pii_found as (
    select
        payload_keys.event_id,
        -- the first PII key in document order. An aggregate filter, not a where clause:
        -- DuckDB pushes a where clause on pii_key below the distinct, back onto every key
        -- node (19 rows took 13 s that way at 10^7).
        arg_min(pii_keys.pii_key, payload_keys.node_id) filter (where pii_keys.pii_key is not null) as pii_key
    from payload_keys
    inner join pii_keys on payload_keys.payload_key = pii_keys.payload_key
    group by payload_keys.event_id
),

checked as (
    select
        -- ids
        cast(source.id as varchar) as event_id,
        cast(source.tenant_id as varchar) as tenant_id,
        source.idempotency_key,

        -- event
        source.event_type,
        source.channel_code,
        source.revenue_cents,
        source.processing_status,
        pii_found.pii_key,
        case
            when source.raw_payload is not null and not json_valid(cast(source.raw_payload as varchar))
                then 'raw_payload: not valid JSON'
            when pii_found.pii_key is not null
                then 'raw_payload: PII key "' || pii_found.pii_key || '" is not allowed'
        end as rejection_reason,

        -- timestamps
        cast(source.occurred_at at time zone 'UTC' as timestamp) as occurred_at_utc,
        cast(source.processed_at at time zone 'UTC' as timestamp) as processed_at_utc,
        cast(source.created_at at time zone 'UTC' as timestamp) as created_at_utc
    from source
    left join pii_found on cast(source.id as varchar) = pii_found.event_id
)

select
    checked.*,
    case when rejection_reason is null then
        row_number() over (
            partition by tenant_id, idempotency_key, rejection_reason is null
            order by created_at_utc, event_id
        )
    end as idempotency_rank,
    created_at_utc < {{ attribution_retention_cutoff() }} as is_past_retention
from checked
