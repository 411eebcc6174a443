-- Internal: query fingerprints per buyer and UTC day (contract 000 §10
-- outside_buyer_query_fingerprint_stats_v1): how many requests, how many different slices,
-- how many slices never asked before, and how many requests the fingerprint budget denied.
-- A buyer cutting the release into many different slices shows up here first.

with

requests as (
    select * from {{ ref('stg_audit__buyer_requests') }}
    where buyer_id is not null
),

first_seen as (
    select
        buyer_id,
        fingerprint,
        min(cast(requested_at as date)) as first_day
    from requests
    where outcome = 'delivered' and fingerprint is not null
    group by buyer_id, fingerprint
),

daily as (
    select
        buyer_id,
        cast(requested_at as date) as request_day,
        count(*) as requests,
        cast(sum(case when outcome = 'delivered' then 1 else 0 end) as bigint) as requests_delivered,
        count(distinct case when outcome = 'delivered' then fingerprint end) as distinct_fingerprints,
        cast(sum(case when rule = 'query_fingerprint_budget' then 1 else 0 end) as bigint)
            as fingerprint_budget_denials,
        cast(sum(case when outcome = 'delivered' then row_count else 0 end) as bigint) as rows_delivered
    from requests
    group by buyer_id, cast(requested_at as date)
),

new_fingerprints as (
    select
        buyer_id,
        first_day as request_day,
        count(*) as new_fingerprints
    from first_seen
    group by buyer_id, first_day
)

select
    daily.buyer_id,
    daily.request_day,
    daily.requests,
    daily.requests_delivered,
    daily.distinct_fingerprints,
    coalesce(new_fingerprints.new_fingerprints, 0) as new_fingerprints,
    daily.fingerprint_budget_denials,
    daily.rows_delivered
from daily
left join new_fingerprints
    on daily.buyer_id = new_fingerprints.buyer_id and daily.request_day = new_fingerprints.request_day
