-- Internal: every buyer request (file export or API call) with its outcome, for operators and
-- the privacy reviewer (contract 000 §7.2 "logs all exports and queries"). Not for buyers.

with

requests as (
    select * from {{ ref('stg_audit__buyer_requests') }}
)

select
    audit_id,
    channel,
    buyer_id,
    key_id,
    requested_at,
    cast(requested_at as date) as request_day,
    endpoint,
    outcome,
    http_status,
    rule,
    reason,
    fingerprint,
    row_count,
    file_format,
    latency_ms,
    requests,
    slice_granularity,
    slice_start,
    slice_end,
    slice_cities
from requests
