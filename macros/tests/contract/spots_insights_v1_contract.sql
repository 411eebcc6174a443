{#-
    What the contract-000 tests accept in the spots_insights_v1 record (schema 1.2; rows released under 1.1 keep it), defined
    once and used as the tests' defaults on every outside-buyer model and contract fixture:
    - enumerations: every text column outside the seeded geo and segment columns, and its values
      (privacy_dp_post_processing: the disclosures of earlier releases, kept by the rows released then
      (the first three: levels made to add up, before per-level bounding), and the current one,
      privacy_insights.dp.release.POST_PROCESSING);
    - metric columns: float columns whose values may carry more than one decimal (they are
      rates, noise scales, probabilities and privacy parameters, not coordinates).
-#}
{% macro spots_insights_v1_enumerations() -%}
    {{ return({
        'schema_version': ['1.1', '1.2'],
        'dataset': ['spots_insights_v1'],
        'time_granularity': ['hour', 'day', 'week'],
        'geo_bucket_type': ['city', 'geohash3'],
        'release_level': ['city', 'city_door_type', 'city_category', 'city_segment'],
        'privacy_suppressed_reason': ['k_min', 'dominance', 'budget_exhausted', 'complementary'],
        'repeat_rate_withheld_reason': ['margin_above_bound'],
        'trend_score_withheld_reason': ['margin_above_bound', 'no_earlier_bucket'],
        'privacy_dp_mechanism': ['discrete_laplace', 'discrete_gaussian'],
        'privacy_dp_post_processing': [
            'levels made consistent (children add up to their parent) by least-squares projection, raking and controlled rounding to non-negative integers; repeat_rate_est and trend_score_est are ratios of released values clamped to [0, 1]',
            'levels made consistent (children add up to their parent) by least-squares projection, raking and controlled rounding to non-negative integers; repeat_rate_est and trend_score_est are ratios of released values clamped to [0, 1]; complementary suppression: no sum holds exactly one suppressed cell',
            'levels made consistent (children add up to their parent) by least-squares projection, raking and controlled rounding to non-negative integers; repeat_rate_est and trend_score_est are ratios of released values clamped to [0, 1], null when their 95 % margin exceeds ratio_moe95_bound; count lower bounds clipped at 0; complementary suppression: no sum holds exactly one suppressed cell',
            'each level bounded on its own (at most privacy_dp_cells_per_participant cells of the level per participant), so levels need not add up; city totals are inverse-variance means of their measurements, every count rounded to a non-negative integer; repeat_rate_est and trend_score_est are ratios of released values clamped to [0, 1], null when their 95 % margin exceeds ratio_moe95_bound; count lower bounds clipped at 0; complementary suppression: no sum holds exactly one suppressed cell',
        ],
    }) }}
{%- endmacro %}

{% macro spots_insights_v1_metric_columns() -%}
    {{ return([
        'repeat_rate_est', 'trend_score_est',
        'uncertainty_unique_participants_noise_scale', 'uncertainty_unique_participants_moe95',
        'uncertainty_unique_participants_lower95',
        'uncertainty_doors_opened_noise_scale', 'uncertainty_doors_opened_moe95', 'uncertainty_doors_opened_lower95',
        'uncertainty_repeat_rate_moe95', 'uncertainty_trend_score_moe95', 'uncertainty_ratio_moe95_bound',
        'privacy_false_release_probability', 'privacy_dp_epsilon', 'privacy_dp_level_epsilon_share',
        'privacy_dp_delta', 'privacy_dp_rho',
    ]) }}
{%- endmacro %}
