-- spots_insights_v1 in the record shape of contract 000 §4.2 (schema 1.2), flat: one column
-- per leaf, prefixed by its parent (`geo_bucket_*`, `segment_*`, metrics unprefixed,
-- `uncertainty_*`, `privacy_*`, `privacy_dp_*`). The current release of every period: the
-- latest release_version that landed (a retry or an opt-in correction adds a version; the
-- earlier rows stay in spots_insights_v1_releases). Rebuilt from the frozen release table
-- on every run without changing any value. Exports and the buyer API read this model.

with

releases as (
    select * from {{ ref('spots_insights_v1_releases') }}
),

current_versions as (
    select
        time_granularity,
        release_period_start,
        max(release_version) as release_version
    from releases
    group by 1, 2
),

current_rows as (
    select releases.*
    from releases
    inner join current_versions
        on
            releases.time_granularity = current_versions.time_granularity
            and releases.release_period_start = current_versions.release_period_start
            and releases.release_version = current_versions.release_version
)

select
    cast(schema_version as varchar) as schema_version,
    cast(dataset as varchar) as dataset,
    cast(time_bucket_start_utc as timestamp) as time_bucket_start_utc,
    cast(time_granularity as varchar) as time_granularity,
    cast(reporting_delay_hours as bigint) as reporting_delay_hours,
    cast(release_period_start as timestamp) as release_period_start,
    cast(release_version as bigint) as release_version,
    cast(release_level as varchar) as release_level,
    cast(geo_bucket_type as varchar) as geo_bucket_type,
    cast(geo_bucket_id as varchar) as geo_bucket_id,
    cast(segment_door_type as varchar) as segment_door_type,
    cast(segment_category as varchar) as segment_category,
    cast(segment_context as varchar) as segment_context,
    cast(unique_participants_est as bigint) as unique_participants_est,
    cast(doors_opened_est as bigint) as doors_opened_est,
    cast(repeat_rate_est as double) as repeat_rate_est,
    cast(trend_score_est as double) as trend_score_est,
    cast(repeat_rate_withheld_reason as varchar) as repeat_rate_withheld_reason,
    cast(trend_score_withheld_reason as varchar) as trend_score_withheld_reason,
    cast(uncertainty_unique_participants_noise_scale as double) as uncertainty_unique_participants_noise_scale,
    cast(uncertainty_unique_participants_moe95 as double) as uncertainty_unique_participants_moe95,
    cast(uncertainty_unique_participants_lower95 as double) as uncertainty_unique_participants_lower95,
    cast(uncertainty_doors_opened_noise_scale as double) as uncertainty_doors_opened_noise_scale,
    cast(uncertainty_doors_opened_moe95 as double) as uncertainty_doors_opened_moe95,
    cast(uncertainty_doors_opened_lower95 as double) as uncertainty_doors_opened_lower95,
    cast(uncertainty_repeat_rate_moe95 as double) as uncertainty_repeat_rate_moe95,
    cast(uncertainty_trend_score_moe95 as double) as uncertainty_trend_score_moe95,
    cast(uncertainty_ratio_moe95_bound as double) as uncertainty_ratio_moe95_bound,
    cast(privacy_k_min_enforced as bigint) as privacy_k_min_enforced,
    cast(privacy_release_threshold as bigint) as privacy_release_threshold,
    cast(privacy_false_release_probability as double) as privacy_false_release_probability,
    cast(privacy_suppressed as boolean) as privacy_suppressed,
    cast(privacy_suppressed_reason as varchar) as privacy_suppressed_reason,
    cast(privacy_dp_enabled as boolean) as privacy_dp_enabled,
    cast(privacy_dp_mechanism as varchar) as privacy_dp_mechanism,
    cast(privacy_dp_epsilon as double) as privacy_dp_epsilon,
    cast(privacy_dp_level_epsilon_share as double) as privacy_dp_level_epsilon_share,
    cast(privacy_dp_delta as double) as privacy_dp_delta,
    cast(privacy_dp_rho as double) as privacy_dp_rho,
    cast(privacy_dp_budget_window_days as bigint) as privacy_dp_budget_window_days,
    cast(privacy_dp_cells_per_participant as bigint) as privacy_dp_cells_per_participant,
    cast(privacy_dp_max_opens_per_participant as bigint) as privacy_dp_max_opens_per_participant,
    cast(privacy_dp_post_processing as varchar) as privacy_dp_post_processing,
    cast(released_at as timestamp) as released_at
from current_rows
