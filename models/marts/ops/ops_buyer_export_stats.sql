-- Buyer request statistics (contract 000 §10, 032 `outside_buyer_export_request_stats_v1`):
-- per buyer, UTC day, channel, outcome and deciding rule, how many requests and how many
-- records were delivered. Counts only: no slice, fingerprint, key or message (the
-- per-request log is ops_buyer_request_log, fingerprints ops_buyer_query_fingerprints).

with

requests as (
    select * from {{ ref('stg_audit__buyer_requests') }}
)

select
    cast(coalesce(buyer_id, '(no valid key)') as varchar) as buyer_id,
    cast(requested_at as date) as request_day,
    cast(channel as varchar) as channel,
    cast(outcome as varchar) as outcome,
    -- `rule` is the audit's own column name (stg_audit__buyer_requests)
    cast(coalesce(rule, 'none') as varchar) as rule,  -- noqa: RF04
    cast(sum(requests) as bigint) as requests,  -- a row of requests without a valid key counts several
    cast(coalesce(sum(case when outcome = 'delivered' then row_count end), 0) as bigint) as rows_delivered,
    cast(max(latency_ms) as double) as max_latency_ms
from requests
group by 1, 2, 3, 4, 5
