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
    {{- '' if privacy_insights.writes_production_schemas() else target.schema ~ '_' -}}
{%- endmacro %}

{#- True when the target writes the unprefixed schemas of the warehouse of record (prod, dev's own file). -#}
{% macro writes_production_schemas() -%}
    {{- return(target.schema in (none, '', 'main')) -}}
{%- endmacro %}

{#-
    True when this build may grant to the client roles (the BI role, the per-tenant BI logins'
    group, the attribution application): PostgreSQL, production schemas only. What a pg_dev or
    ci build writes (`dev_*`, `ci_*`: other noise, another ledger) is never granted to a role a
    production client logs in as (docs/bi.md; environments never cross).
-#}
{% macro grants_to_client_roles() -%}
    {{- return(privacy_insights.on_postgres() and privacy_insights.writes_production_schemas()) -}}
{%- endmacro %}

{#- True on the PostgreSQL targets (DuckDB attaches the database as `pg`). -#}
{% macro on_postgres() -%}
    {{- return(target.database == 'pg') -}}
{%- endmacro %}
