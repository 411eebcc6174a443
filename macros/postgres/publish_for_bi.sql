{#-
    What a BI tool reads on PostgreSQL (docs/bi.md), applied at each build because dbt recreates
    the tables every run: every public mart (`access: public`) and the public reference data of
    schema `reference` (the seeds and models/reference/: city names beside codes). Nothing
    happens for any other node, nor on any other target, except the check that a public mart
    declares a primary key (cheap, so checked everywhere).

    `publish_for_bi` (post-hook of the marts, the reference models and the seeds), inside the
    build's transaction (readers never see the new table without its comments or its grant):
      - table and column comments from the YAML descriptions (dbt's persist_docs fails
        through the DuckDB attach: "Only altering tables is supported");
      - SELECT for the read-only BI role (`bi_role()`) when the role exists (created by
        `privacy-insights postgres install bi`), on a build of the production schemas only
        (`grants_to_client_roles()`): a pg_dev or ci build grants nothing to a client role.
        dbt's `grants:` config does nothing on dbt-duckdb ("Grants for relations are not
        supported by DuckDB").
    `publish_primary_key`, after the commit, when the old table is gone: the primary key
    declared once in the YAML as a model constraint
    (`constraints: [{type: primary_key, columns: [...]}]`), named `<table>_pkey`. A SQL model
    with an enforced contract gets it in its CREATE TABLE (on DuckDB too) under the
    temporary table's name, and the hook renames it; a table without one (a Python model,
    which cannot carry a contract) gets it added. Rebuilding a table with a primary key
    through the attach needs `drop_indexes_on_relation.sql` beside this file.
    `grant_bi_schemas` (on-run-end) grants USAGE on their schemas once per run, as for the
    tenant RLS: two threads granting on one schema at once fail in PostgreSQL; on the project's
    other schemas it takes back USAGE an earlier build gave. The shared BI role is granted no
    tenant-scoped mart (`bi_role_selects`): per-tenant BI logins read those. On a pg_dev or
    ci build it takes back instead whatever an earlier build granted client roles on the
    target's schemas (`revoke_client_roles`).
-#}
{% macro bi_role() -%}
    {{ return('privacy_insights_bi') }}
{%- endmacro %}

{#- The NOLOGIN group of the per-tenant BI logins (`privacy-insights postgres bi-tenant add`). -#}
{% macro bi_tenant_role() -%}
    {{ return('privacy_insights_bi_tenant') }}
{%- endmacro %}

{#- Every role a production client logs in as, or whose members do: what dbt may grant to. -#}
{% macro client_roles() -%}
    {{ return([bi_role(), bi_tenant_role(), 'attribution_app']) }}
{%- endmacro %}


{#- A node published for BI tools (comments, primary key): a public mart, or public reference
    data (configured schema `reference`). -#}
{% macro bi_reads(node) -%}
    {{ return(node.resource_type in ('model', 'seed')
              and (node.access == 'public' or node.config.schema == 'reference')) }}
{%- endmacro %}


{#- A node the shared BI role may SELECT: what bi_reads names, except tenant-scoped marts
    (`meta: {rls: ...}`). Their RLS keys on app.current_tenant_id, which any session may set,
    so a shared login granted them could read every tenant in turn; tenants' dashboards use a
    per-tenant BI login instead (macros/attribution/apply_tenant_rls.sql, docs/bi.md). -#}
{% macro bi_role_selects(node) -%}
    {{ return(bi_reads(node) and not (node.config.meta or {}).get('rls')) }}
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
    {%- if execute and bi_reads(model) -%}
        {%- if model.access == 'public' and not declared_primary_key(model) -%}
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
{% if privacy_insights.grants_to_client_roles() and bi_role_selects(model) -%}
do $grant$ begin
    if exists (select 1 from pg_roles where rolname = '{{ bi_role() }}') then
        grant select on {{ relation }} to {{ bi_role() }};
    end if;
end $grant$;
{%- endif %}
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


{#-
    on-run-end, once, serially: on a production build, USAGE for the BI role on every schema
    holding a node it reads; on a pg_dev or ci build, nothing for any client role on any schema
    of the target (`revoke_client_roles`).
-#}
{% macro grant_bi_schemas() -%}
    {%- if privacy_insights.on_postgres() and execute -%}
        {%- if not privacy_insights.grants_to_client_roles() -%}
            {%- do revoke_client_roles() -%}
            {{- return('') -}}
        {%- endif -%}
        {%- set schemas, others = [], [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if bi_role_selects(node) and node.schema not in schemas -%}
                {%- do schemas.append(node.schema) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type in ('model', 'seed', 'snapshot') and node.schema not in schemas + others -%}
                {%- do others.append(node.schema) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do on_schemas_for_roles(schemas, [bi_role()], ['grant usage on schema %I to %I']) -%}
        {#- schemas it reads nothing in (attribution: tenant-scoped only) keep no USAGE an earlier build gave -#}
        {%- do on_schemas_for_roles(others, [bi_role()], ['revoke usage on schema %I from %I']) -%}
    {%- endif -%}
{%- endmacro %}


{#-
    A pg_dev or ci build: every schema the project builds under the target's prefix keeps no
    privilege for a client role, also what an earlier build granted (before issue 31 a pg_dev
    build granted the BI role its `dev_*` copies; the incremental ledger kept the grant).
-#}
{% macro revoke_client_roles() -%}
    {%- set schemas = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type in ('model', 'seed', 'snapshot') and node.schema not in schemas -%}
            {%- do schemas.append(node.schema) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do on_schemas_for_roles(
        schemas, client_roles(),
        ['revoke all on all tables in schema %I from %I', 'revoke all on schema %I from %I']) -%}
{%- endmacro %}
