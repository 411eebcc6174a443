-- Every raw outreach row is accounted for: clean + quarantined + duplicates = raw.
-- Returns a row when the sums differ.

with

raw_rows as (
    select count(*) as n from {{ source('outreach', 'outreach_event_logs') }}
),

clean as (
    select count(*) as n from {{ ref('stg_outreach__event_logs') }}
),

quarantined as (
    select count(*) as n from {{ ref('stg_outreach__event_logs_quarantine') }}
),

duplicates as (
    select count(*) as n from {{ ref('stg_outreach__event_logs_duplicates') }}
)

select
    raw_rows.n as raw_rows,
    clean.n as clean_rows,
    quarantined.n as quarantined_rows,
    duplicates.n as duplicate_rows
from raw_rows, clean, quarantined, duplicates
where raw_rows.n != clean.n + quarantined.n + duplicates.n
