{{ config(enabled=var('contract_fixture', '') == 'planted_user_id') }}

-- Deliberately broken copy of spots_insights_v1 (see _contract_fixtures.yml): built only
-- with --vars '{contract_fixture: planted_user_id}', to prove the contract tests can fail.

with released as (
    select * from {{ ref('spots_insights_v1') }}
    order by time_granularity, time_bucket_start_utc, geo_bucket_id, segment_door_type, segment_category, segment_context
    limit 200
)

select *, 'usr_1f99027d6cbfeac8' as user_id from released
