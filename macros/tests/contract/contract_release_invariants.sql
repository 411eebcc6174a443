{#- Contract 000 G3 and §4.3: geo never finer than a city (or a 3-character geohash). -#}
{% test contract_geo_granularity(model) %}
    {%- set sql -%}
        select 'geo_bucket_id: ''' || geo_bucket_id || ''' is not a city code' as violation
        from {{ model }}
        where geo_bucket_type = 'city' and geo_bucket_id not in (select city_code from {{ ref('city_definitions') }})
        union all
        select 'geo_bucket_id: ''' || geo_bucket_id || ''' is not a 3-character geohash' as violation
        from {{ model }}
        where geo_bucket_type = 'geohash3' and not regexp_full_match(geo_bucket_id, '[0123456789bcdefghjkmnpqrstuvwxyz]{3}')
        union all
        select 'geo_bucket_type: ''' || coalesce(geo_bucket_type, 'null') || ''' is not city or geohash3' as violation
        from {{ model }}
        where geo_bucket_type is null or geo_bucket_type not in ('city', 'geohash3')
    {%- endset -%}
    {{ privacy_insights.contract_check(model, "geo no finer than city / geohash3 (contract 000 G3, §4.3)", sql) }}
{% endtest %}

{#- Contract 000 G3: hour, day or week buckets, aligned (weeks start Monday 00:00 UTC). -#}
{% test contract_time_bucket_aligned(model) %}
    {%- set sql -%}
        select 'time_bucket_start_utc: ' || cast(time_bucket_start_utc as varchar) || ' is not aligned to its ' || time_granularity as violation
        from {{ model }}
        where time_granularity not in ('hour', 'day', 'week')
            or (time_granularity = 'hour' and time_bucket_start_utc != {{ dbt.date_trunc('hour', 'time_bucket_start_utc') }})
            or (time_granularity = 'day' and time_bucket_start_utc != {{ dbt.date_trunc('day', 'time_bucket_start_utc') }})
            or (time_granularity = 'week' and time_bucket_start_utc != {{ dbt.date_trunc('week', 'time_bucket_start_utc') }})
    {%- endset -%}
    {{ privacy_insights.contract_check(model, "time buckets hour/day/week, aligned (contract 000 G3)", sql) }}
{% endtest %}

{#- Contract 000 G3: released with at least 72 hours of delay. -#}
{% test contract_reporting_delay(model) %}
    {%- set sql -%}
        select distinct 'reporting_delay_hours: ' || cast(reporting_delay_hours as varchar) || ' is below 72' as violation
        from {{ model }}
        where reporting_delay_hours is null or reporting_delay_hours < 72
    {%- endset -%}
    {{ privacy_insights.contract_check(model, "reporting delay >= 72 hours (contract 000 G3)", sql) }}
{% endtest %}

{#- Contract 000 G4: k at least the contract minimum, and no released cell below its k (noisy). -#}
{% test contract_k_min(model, minimum=100) %}
    {%- set sql -%}
        select distinct 'privacy_k_min_enforced: ' || cast(privacy_k_min_enforced as varchar) || ' is below the contract minimum {{ minimum }}' as violation
        from {{ model }}
        where privacy_k_min_enforced is null or privacy_k_min_enforced < {{ minimum }}
        union all
        select 'unique_participants_est: released cell ' || geo_bucket_id || ' ' || cast(time_bucket_start_utc as varchar)
            || ' has ' || coalesce(cast(unique_participants_est as varchar), 'null') || ' < k ' || cast(privacy_k_min_enforced as varchar) as violation
        from {{ model }}
        where not privacy_suppressed
            and (unique_participants_est is null or unique_participants_est < privacy_k_min_enforced)
        union all
        select 'unique_participants_est: suppressed cell ' || geo_bucket_id || ' ' || cast(time_bucket_start_utc as varchar)
            || ' publishes a metric' as violation
        from {{ model }}
        where privacy_suppressed
            and (unique_participants_est is not null or doors_opened_est is not null
                 or repeat_rate_est is not null or trend_score_est is not null)
        union all
        select distinct 'privacy_release_threshold: ' || coalesce(cast(privacy_release_threshold as varchar), 'null')
            || ' is below k ' || cast(privacy_k_min_enforced as varchar) as violation
        from {{ model }}
        where privacy_release_threshold is null or privacy_release_threshold < privacy_k_min_enforced
    {%- endset -%}
    {{ privacy_insights.contract_check(model, "k-min suppression (contract 000 G4)", sql) }}
{% endtest %}

{#- Contract 000 G5: every published period and version is in the budget ledger with the same parameters. -#}
{% test contract_releases_in_ledger(model, ledger) %}
    {%- set sql -%}
        with periods as (
            select distinct time_granularity, release_period_start, release_version, privacy_dp_mechanism,
                privacy_dp_epsilon, privacy_dp_delta
            from {{ model }}
        )
        select 'privacy_dp_epsilon: ' || periods.time_granularity || ' period ' || cast(periods.release_period_start as varchar)
            || ' version ' || cast(periods.release_version as varchar)
            || case when ledger.time_granularity is null then ' is missing from the budget ledger'
                    else ' differs from the budget ledger (mechanism, epsilon or delta)' end as violation
        from periods
        left join {{ ledger }} as ledger
            on periods.time_granularity = ledger.time_granularity
            and periods.release_period_start = ledger.release_period_start
            and periods.release_version = ledger.release_version
        where ledger.time_granularity is null
            or periods.privacy_dp_mechanism != ledger.mechanism
            or periods.privacy_dp_epsilon != ledger.epsilon
            or periods.privacy_dp_delta != ledger.delta
    {%- endset -%}
    {{ privacy_insights.contract_check(model, "every release accounted in the budget ledger (contract 000 G5)", sql) }}
{% endtest %}
