-- Every raw attribution event is accounted for: clean + PII-quarantined + duplicates +
-- past retention (not duplicates) = raw. Returns a row when the sums differ.

with

raw_rows as (
    select count(*) as n from {{ source('attribution', 'attribution_events') }}
),

clean as (
    select count(*) as n from {{ ref('stg_attribution__events') }}
),

quarantined as (
    select count(*) as n from {{ ref('stg_attribution__events_quarantine') }}
),

duplicates as (
    select count(*) as n from {{ ref('stg_attribution__events_duplicates') }}
),

expired as (
    select count(*) as n from {{ ref('base_attribution__events_checked') }}
    where pii_key is null and idempotency_rank = 1 and is_past_retention
)

select
    raw_rows.n as raw_rows,
    clean.n as clean,
    quarantined.n as quarantined,
    duplicates.n as duplicates,
    expired.n as expired
from raw_rows, clean, quarantined, duplicates, expired
where raw_rows.n != clean.n + quarantined.n + duplicates.n + expired.n
