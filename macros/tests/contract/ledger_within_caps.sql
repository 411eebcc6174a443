{#-
    Contract 000 G5 on the budget ledger itself: no budget window ever held more than the
    cap. For every charge and every window overlapping its period, the charges that existed
    when it was made (charged_at at or before its own) must fit under the epsilon cap (and
    delta cap) recorded with it. This holds across builds, whatever order they ran in.
-#}
{% test ledger_within_caps(model) %}
    {%- set sql -%}
        with charges as (
            select
                *,
                release_period_start as period_start,
                release_period_start + to_days(case time_granularity when 'week' then 7 else 1 end) as period_end
            from {{ model }}
            where status = 'charged'
        ),

        windows as (
            select
                charges.*,
                unnest(generate_series(
                    charges.period_start - to_days(cast(charges.budget_window_days - 1 as integer)),
                    charges.period_end - interval 1 day,
                    interval 1 day)) as window_start
            from charges
        ),

        spent as (
            select
                windows.time_granularity,
                windows.release_period_start,
                windows.release_version,
                windows.window_start,
                windows.epsilon_cap,
                windows.delta_cap,
                sum(earlier.epsilon) as window_epsilon,
                sum(earlier.delta) as window_delta
            from windows
            inner join charges as earlier
                on earlier.charged_at <= windows.charged_at
                and earlier.period_start < windows.window_start + to_days(cast(windows.budget_window_days as integer))
                and earlier.period_end > windows.window_start
            group by all
        )

        select 'epsilon: window from ' || cast(window_start as date) || ' holds ' || round(window_epsilon, 6)
            || ' > cap ' || epsilon_cap || ' (after ' || time_granularity || ' ' || cast(release_period_start as date)
            || ' v' || release_version || ')' as violation
        from spent
        where window_epsilon > epsilon_cap + 1e-9
        union all
        select 'delta: window from ' || cast(window_start as date) || ' holds ' || window_delta
            || ' > delta cap ' || delta_cap as violation
        from spent
        where window_delta > 0 and window_delta > delta_cap * (1 + 1e-9)
    {%- endset -%}
    {{ privacy_insights.contract_check(model, "no budget window above its cap (contract 000 G5)", sql) }}
{% endtest %}
