{#-
    Schemas are named for what they hold (`staging`, `outside_buyer`, ...), so BI tools and
    the privacy reviewer find the same names on every target (and dbt-duckdb does not
    write `main_<schema>`). The PostgreSQL development and CI targets share the warehouse's
    database with production, so their schemas are prefixed with the target's schema
    (`dev_outside_buyer`, `ci_outside_buyer`; profiles.yml.example): only the `prod` target
    (schema `main`) writes the unprefixed schemas of the warehouse of record, and so only
    it can spend the production privacy budget. The DuckDB target is its own file.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ privacy_insights.schema_prefix() }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{#- `<target schema>_` on targets whose schema is not `main` (pg_dev, ci), else nothing. -#}
{% macro schema_prefix() -%}
    {{- '' if target.schema in (none, '', 'main') else target.schema ~ '_' -}}
{%- endmacro %}

{#- True on the PostgreSQL targets (DuckDB attaches the database as `pg`). -#}
{% macro on_postgres() -%}
    {{- return(target.database == 'pg') -}}
{%- endmacro %}
