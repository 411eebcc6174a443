{#-
    Schemas are named for what they hold (`staging`, `outside_buyer`, ...), not prefixed
    with the target's schema: BI tools and the privacy reviewer look for the same names
    on every target, and dbt-duckdb would otherwise write `main_<schema>`.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
