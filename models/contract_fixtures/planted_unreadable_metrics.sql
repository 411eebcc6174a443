{{ config(enabled=var('contract_fixture', '') == 'planted_unreadable_metrics') }}

-- Deliberately broken copy of spots_insights_v1 (see _contract_fixtures.yml): built only
-- with --vars '{contract_fixture: planted_unreadable_metrics}', to prove the published-metric
-- tests can fail: a repeat rate whose 95 % margin is above its bound, and a doors-opened
-- interval running below zero (one fixture for both: each dbt invocation costs ~10 s).

with released as (
    select * from {{ ref('spots_insights_v1') }}
    order by time_granularity, time_bucket_start_utc, geo_bucket_id, segment_door_type, segment_category, segment_context
    limit 200
)

select * replace (
    0.31 as repeat_rate_est,
    0.42 as uncertainty_repeat_rate_moe95,
    0.1 as uncertainty_ratio_moe95_bound,
    cast(null as varchar) as repeat_rate_withheld_reason,
    cast(150 as bigint) as doors_opened_est,
    267.0 as uncertainty_doors_opened_moe95,
    -117.0 as uncertainty_doors_opened_lower95
)
from released
