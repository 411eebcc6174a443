{#-
    Complementary suppression (privacy_insights.dp.suppression): within a period, bucket and
    city, a parent and its children never hold exactly one suppressed cell, since released
    children add up to their parent and the lone one would be their difference. Relations:
    spots_release_relations (macros/tests/released_children_add_up.sql). Rows released before
    complementary suppression (whose privacy_dp_post_processing does not mention it) are not
    checked: a released cell never changes.
-#}
{% test no_lone_suppressed_cell(model) %}
    {%- set relations = privacy_insights.spots_release_relations() -%}
    {%- set key = privacy_insights.spots_release_relation_key() -%}
    {%- set checks = [] -%}
    {%- for parent, child, shared in relations -%}
        {%- set sql -%}
            select 'the {{ parent }} row of ' || parent.geo_bucket_id || ' ' || cast(parent.time_bucket_start_utc as varchar)
                {%- for column in shared %} || ' ' || parent.{{ column }}{% endfor %}
                || ' and its {{ child }} rows hold exactly one suppressed cell: it is their difference' as violation
            from {{ model }} as parent
            inner join (
                select
                    {{ (key + shared) | join(', ') }},
                    sum(case when privacy_suppressed then 1 else 0 end) as suppressed
                from {{ model }}
                where release_level = '{{ child }}'
                group by {{ (key + shared) | join(', ') }}
            ) as children
                on {% for column in key + shared %}parent.{{ column }} = children.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
            where parent.release_level = '{{ parent }}'
                and parent.privacy_dp_post_processing like '%complementary suppression%'
                and children.suppressed + case when parent.privacy_suppressed then 1 else 0 end = 1
        {%- endset -%}
        {%- do checks.append(sql) -%}
    {%- endfor -%}
    {{ privacy_insights.contract_check(model, "no parent and its children hold exactly one suppressed cell", checks | join(' union all ')) }}
{% endtest %}
