{#-
    Every published metric is worth reading (issue 29; privacy_insights.dp.ratios). Post-processing
    rules a built mart must keep, checked on the published rows; a failure names the column.

    published_ratios_within_bound: a ratio (`ratios`: ratio column -> its 95 % margin column) is
    published only with its margin, at most the row's public bound (column `bound`, itself at most
    `max_bound`, params.MAX_RATIO_MOE95_BOUND); a withheld ratio has a reason (`<name>_withheld_reason`
    for `<name>_est`) and a published one has none.

    count_intervals_clipped: the lower end of a count's 95 % interval (`intervals`: lower-bound
    column -> [estimate column, margin column]) is max(0, estimate - margin): never negative, and
    present whenever the estimate is.
-#}
{% test published_ratios_within_bound(model, ratios, bound, max_bound=0.5) %}
    {%- set checks = [] -%}
    {%- for ratio, margin in ratios.items() -%}
        {%- set reason = ratio[:-4] ~ '_withheld_reason' -%}
        {%- set sql -%}
            select '{{ ratio }}: published with 95 % margin ' || coalesce(cast({{ margin }} as varchar), 'null')
                || ' above its bound ' || coalesce(cast({{ bound }} as varchar), 'null')
                || ' (' || geo_bucket_id || ' ' || cast(time_bucket_start_utc as varchar) || ')' as violation
            from {{ model }}
            where {{ ratio }} is not null
                and ({{ margin }} is null or {{ bound }} is null or {{ margin }} > {{ bound }} or {{ bound }} > {{ max_bound }})
            union all
            select '{{ ratio }}: published and withheld at once ({{ reason }} ' || {{ reason }} || ')' as violation
            from {{ model }}
            where {{ ratio }} is not null and {{ reason }} is not null
        {%- endset -%}
        {%- do checks.append(sql) -%}
    {%- endfor -%}
    {{ privacy_insights.contract_check(model, "published ratios within their 95 % margin bound", checks | join(' union all '), kind='Published metric') }}
{% endtest %}

{% test count_intervals_clipped(model, intervals) %}
    {%- set checks = [] -%}
    {%- for lower, pair in intervals.items() -%}
        {%- set estimate, margin = pair[0], pair[1] -%}
        {%- set sql -%}
            select '{{ lower }}: ' || coalesce(cast({{ lower }} as varchar), 'null') || ' is not max(0, {{ estimate }} '
                || cast({{ estimate }} as varchar) || ' - {{ margin }} ' || coalesce(cast({{ margin }} as varchar), 'null')
                || ') (' || geo_bucket_id || ' ' || cast(time_bucket_start_utc as varchar) || ')' as violation
            from {{ model }}
            where {{ estimate }} is not null
                and ({{ lower }} is null or {{ margin }} is null
                     or abs({{ lower }} - greatest({{ estimate }} - {{ margin }}, 0)) > 1e-6)
            union all
            select '{{ lower }}: negative lower bound ' || cast({{ lower }} as varchar) as violation
            from {{ model }}
            where {{ lower }} < 0
        {%- endset -%}
        {%- do checks.append(sql) -%}
    {%- endfor -%}
    {{ privacy_insights.contract_check(model, "count intervals clipped at zero", checks | join(' union all '), kind='Published metric') }}
{% endtest %}
