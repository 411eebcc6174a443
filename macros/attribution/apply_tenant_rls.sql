{#-
    Post-hook for tenant-scoped marts: on the postgres target, a model whose config has
    `meta: {rls: <tenant column>}` gets row-level security in PostgreSQL, the same policy
    as the landing zone (`tenant_isolation_policy` on app.current_tenant_id; no tenant set,
    no rows), and SELECT for the application role when it exists. dbt rebuilds the table
    on every run, so the hook runs every time. On DuckDB there is nothing to enforce: the
    docs say so, and the hook renders to nothing. USAGE on the schema is granted once, in
    `grant_tenant_schemas` (on-run-end): two threads granting on one schema at the same
    time fail in PostgreSQL with "tuple concurrently updated".
-#}
{% macro apply_tenant_rls() -%}
    {%- set column = (config.get('meta') or {}).get('rls') -%}
    {%- if privacy_insights.on_postgres() and column -%}
        {%- set relation = adapter.quote(this.schema) ~ '.' ~ adapter.quote(this.identifier) -%}
        {%- set statements -%}
alter table {{ relation }} enable row level security;
alter table {{ relation }} force row level security;
drop policy if exists tenant_isolation_policy on {{ relation }};
create policy tenant_isolation_policy on {{ relation }}
    using ({{ column }}::uuid = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
do $grant$ begin
    if exists (select 1 from pg_roles where rolname = 'attribution_app') then
        grant select on {{ relation }} to attribution_app;
    end if;
end $grant$;
        {%- endset -%}
        call postgres_execute('{{ this.database }}', '{{ statements | replace("'", "''") }}')
    {%- endif -%}
{%- endmacro %}


{#- on-run-end: USAGE on every schema holding a model with `meta: {rls: ...}`, once, serially. -#}
{% macro grant_tenant_schemas() -%}
    {%- if privacy_insights.on_postgres() and execute -%}
        {%- set schemas = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and (node.config.meta or {}).get('rls') and node.schema not in schemas -%}
                {%- do schemas.append(node.schema) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for schema in schemas -%}
            {%- set statement -%}
do $grant$ begin
    if exists (select 1 from pg_roles where rolname = 'attribution_app')
        and exists (select 1 from pg_namespace where nspname = '{{ schema }}') then
        grant usage on schema {{ adapter.quote(schema) }} to attribution_app;
    end if;
end $grant$;
            {%- endset -%}
            {%- do run_query("call postgres_execute('" ~ target.database ~ "', '" ~ (statement | replace("'", "''")) ~ "')") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
