{#-
    Consistent totals (DESIGN.md §2.12): within a period, bucket and city, when a parent row
    and all of its children at a level are released, the children's participants, doors
    opened and repeaters (repeat_rate x participants, rounded) add up to the parent's.
    Children of the city: its door types, its categories. Children of a door type: its
    segments (door type x category x context); of a category: its segments.
    Only rows released with additive post-processing (privacy_dp_post_processing starting
    'levels made consistent'): since contribution bounds are per level (at most C_L cells of
    each level per participant, docs/privacy_reviewer.md "Contribution bounds"), distinct
    participants of children need not add up to their parent, and the release says so.
-#}
{#- The additive relations of a release: (parent level, child level, the dimensions they share
    beyond the key), and the key of a period's city and bucket (privacy_insights.dp.suppression.RELATIONS). -#}
{% macro spots_release_relations() -%}
    {{ return([
        ('city', 'city_door_type', []),
        ('city', 'city_category', []),
        ('city_door_type', 'city_segment', ['segment_door_type']),
        ('city_category', 'city_segment', ['segment_category']),
    ]) }}
{%- endmacro %}

{% macro spots_release_relation_key() -%}
    {{ return(['time_granularity', 'release_version', 'time_bucket_start_utc', 'geo_bucket_id']) }}
{%- endmacro %}

{% test released_children_add_up(model) %}
    {%- set relations = privacy_insights.spots_release_relations() -%}
    {%- set key = privacy_insights.spots_release_relation_key() -%}
    {%- set checks = [] -%}
    {%- for parent, child, shared in relations -%}
        {%- set sql -%}
            select '{{ child }} rows of ' || parent.geo_bucket_id || ' ' || cast(parent.time_bucket_start_utc as varchar)
                {%- for column in shared %} || ' ' || parent.{{ column }}{% endfor %}
                || ' add up to ' || children.participants || ' participants, not the released {{ parent }} value '
                || parent.unique_participants_est as violation
            from {{ model }} as parent
            inner join (
                select
                    {{ (key + shared) | join(', ') }},
                    count(*) as cells,
                    sum(case when privacy_suppressed then 1 else 0 end) as suppressed,
                    sum(unique_participants_est) as participants,
                    sum(doors_opened_est) as doors
                from {{ model }}
                where release_level = '{{ child }}'
                group by {{ (key + shared) | join(', ') }}
            ) as children
                on {% for column in key + shared %}parent.{{ column }} = children.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
            where parent.release_level = '{{ parent }}'
                and parent.privacy_dp_post_processing like 'levels made consistent%'
                and not parent.privacy_suppressed
                and children.suppressed = 0
                and (children.participants != parent.unique_participants_est or children.doors != parent.doors_opened_est)
        {%- endset -%}
        {%- do checks.append(sql) -%}
    {%- endfor -%}
    {{ privacy_insights.contract_check(model, "released children add up to their released parent", checks | join(' union all ')) }}
{% endtest %}
