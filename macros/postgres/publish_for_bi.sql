{#-
    Hooks of every mart (dbt_project.yml): what a BI tool needs from a public mart on
    PostgreSQL, applied at each build because dbt recreates the table every run. Nothing
    happens for a mart that is not `access: public`, nor on any other target, except the
    check that a public mart declares a primary key (cheap, so checked everywhere).

    `publish_for_bi`, inside the build's transaction (readers never see the new table
    without its comments or its grant):
      - table and column comments from the YAML descriptions (dbt's persist_docs fails
        through the DuckDB attach: "Only altering tables is supported");
      - SELECT for the read-only BI role (`bi_role()`) when the role exists (created by
        `privacy-insights postgres install bi`). dbt's `grants:` config does nothing on
        dbt-duckdb ("Grants for relations are not supported by DuckDB").
    `publish_primary_key`, after the commit, when the old table is gone: the primary key
    declared once in the YAML as a model constraint
    (`constraints: [{type: primary_key, columns: [...]}]`), named `<table>_pkey`. A SQL model
    with an enforced contract gets it in its CREATE TABLE (on DuckDB too) under the
    temporary table's name, and the hook renames it; a table without one (a Python model,
    which cannot carry a contract) gets it added. Rebuilding a table with a primary key
    through the attach needs `drop_indexes_on_relation.sql` beside this file.
    `grant_bi_schemas` (on-run-end) grants USAGE on their schemas once per run, as for the
    tenant RLS: two threads granting on one schema at once fail in PostgreSQL.
-#}
{% macro bi_role() -%}
    {{ return('privacy_insights_bi') }}
{%- endmacro %}


{#- The primary-key columns declared in the model's YAML (model- or column-level constraint). -#}
{% macro declared_primary_key(node) -%}
    {%- set columns = [] -%}
    {%- for constraint in node.constraints or [] -%}
        {%- if constraint.type == 'primary_key' -%}
            {%- do columns.extend(constraint.columns) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for column in (node.columns or {}).values() -%}
        {%- for constraint in column.constraints or [] -%}
            {%- if constraint.type == 'primary_key' and column.name not in columns -%}
                {%- do columns.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}


{% macro pg_literal(text) -%}
    '{{ (text or '') | replace("'", "''") }}'
{%- endmacro %}


{% macro publish_for_bi() -%}
    {%- if execute and model.access == 'public' -%}
        {%- set key = declared_primary_key(model) -%}
        {%- if not key -%}
            {{ exceptions.raise_compiler_error(
                "model " ~ model.name ~ ": access public requires a primary key; declare "
                ~ "`constraints: [{type: primary_key, columns: [...]}]` in its YAML") }}
        {%- endif -%}
        {%- if privacy_insights.on_postgres() -%}
            {%- set relation = adapter.quote(this.schema) ~ '.' ~ adapter.quote(this.identifier) -%}
            {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
            {%- set statements -%}
comment on table {{ relation }} is {{ pg_literal(model.description) }};
{% for column in model.columns.values() if column.name in existing and column.description -%}
comment on column {{ relation }}.{{ adapter.quote(column.name) }} is {{ pg_literal(column.description) }};
{% endfor -%}
do $grant$ begin
    if exists (select 1 from pg_roles where rolname = '{{ bi_role() }}') then
        grant select on {{ relation }} to {{ bi_role() }};
    end if;
end $grant$;
            {%- endset -%}
            call postgres_execute('{{ this.database }}', '{{ statements | replace("'", "''") }}')
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#-
    Post-hook outside the build's transaction (dbt runs it after the old table is dropped,
    so the name `<table>_pkey` is free again): the primary key of a public mart on
    PostgreSQL, renamed from the temporary table's name or added where the table has none.
-#}
{% macro publish_primary_key() -%}
    {%- if execute and privacy_insights.on_postgres() and model.access == 'public' -%}
        {%- set key = declared_primary_key(model) -%}
        {%- set relation = adapter.quote(this.schema) ~ '.' ~ adapter.quote(this.identifier) -%}
        {%- set key_name = this.identifier ~ '_pkey' -%}
        {%- set statement -%}
do $key$
declare
    existing text;
begin
    select conname into existing from pg_constraint
    where conrelid = {{ pg_literal(relation) }}::regclass and contype = 'p';
    if existing is null then
        alter table {{ relation }} add constraint {{ adapter.quote(key_name) }} primary key ({{ key | join(', ') }});
    elsif existing <> {{ pg_literal(key_name) }} then
        execute format('alter table %s rename constraint %I to %I', {{ pg_literal(relation) }}, existing, {{ pg_literal(key_name) }});
    end if;
end $key$;
        {%- endset -%}
        call postgres_execute('{{ this.database }}', '{{ statement | replace("'", "''") }}')
    {%- endif -%}
{%- endmacro %}


{#- on-run-end: USAGE for the BI role on every schema holding a public model, once, serially. -#}
{% macro grant_bi_schemas() -%}
    {%- if privacy_insights.on_postgres() and execute -%}
        {%- set schemas = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.access == 'public' and node.schema not in schemas -%}
                {%- do schemas.append(node.schema) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for schema in schemas -%}
            {%- set statement -%}
do $grant$ begin
    if exists (select 1 from pg_roles where rolname = '{{ bi_role() }}')
        and exists (select 1 from pg_namespace where nspname = '{{ schema }}') then
        grant usage on schema {{ adapter.quote(schema) }} to {{ bi_role() }};
    end if;
end $grant$;
            {%- endset -%}
            {%- do run_query("call postgres_execute('" ~ target.database ~ "', '" ~ (statement | replace("'", "''")) ~ "')") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
