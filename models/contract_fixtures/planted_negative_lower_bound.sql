{{ config(enabled=var('contract_fixture', '') == 'planted_negative_lower_bound') }}

-- Deliberately broken copy of spots_insights_v1 (see _contract_fixtures.yml): built only
-- with --vars '{contract_fixture: planted_negative_lower_bound}', to prove the published-metric tests can fail.

with released as (
    select * from {{ ref('spots_insights_v1') }}
    order by time_granularity, time_bucket_start_utc, geo_bucket_id, segment_door_type, segment_category, segment_context
    limit 200
)

select * replace (
    cast(150 as bigint) as doors_opened_est,
    267.0 as uncertainty_doors_opened_moe95,
    -117.0 as uncertainty_doors_opened_lower95
)
from released
