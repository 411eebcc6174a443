{#-
    Generic model test: none of the model's columns is named like one of `names`
    (case-insensitive, also as a prefix or suffix part, e.g. `session_id` catches
    `SESSION_ID` and `raw_session_id`). Returns one row per offending column.
-#}
{% test no_forbidden_columns(model, names) %}
{%- set offending = [] -%}
{%- for column in adapter.get_columns_in_relation(model) -%}
    {%- set lowered = column.name | lower -%}
    {%- for name in names -%}
        {%- if lowered == name or lowered.endswith('_' ~ name) or lowered.startswith(name ~ '_') -%}
            {%- do offending.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endfor %}
{%- if offending %}
    {%- for name in offending | unique %}
select '{{ name }}' as forbidden_column{% if not loop.last %} union all {% endif %}
    {%- endfor %}
{%- else %}
select cast(null as varchar) as forbidden_column where false
{%- endif %}
{% endtest %}
