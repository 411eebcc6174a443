{#-
    Post-hook for tenant-scoped marts: on PostgreSQL, a model whose config has
    `meta: {rls: <tenant column>}` gets row-level security, forced, with two policies:
      - `tenant_isolation_policy` (permissive, every role): the landing zone's policy on
        app.current_tenant_id; no tenant set, no rows;
      - `bi_tenant_login_policy` (restrictive, the group of the per-tenant BI logins, when
        `privacy-insights postgres install bi` has created it): a tenant login sees only the
        tenant that public.bi_tenant_logins maps it to, whatever it sets
        app.current_tenant_id to (docs/bi.md). Its login has that tenant preset, so the
        first policy lets its rows through; setting another tenant shows nothing.
    On a build of the production schemas (`grants_to_client_roles()`), SELECT for the
    application role and for the tenant logins' group when they exist; a pg_dev or ci build
    grants them nothing. dbt rebuilds the table on every run, so the hook runs every time. On
    DuckDB there is nothing to enforce: the docs say so, and the hook renders to nothing. USAGE
    on the schema is granted once, in `grant_tenant_schemas` (on-run-end): two threads
    granting on one schema at the same time fail in PostgreSQL with "tuple concurrently
    updated".
-#}
{% macro apply_tenant_rls() -%}
    {%- set column = (config.get('meta') or {}).get('rls') -%}
    {%- if privacy_insights.on_postgres() and column -%}
        {%- set relation = adapter.quote(this.schema) ~ '.' ~ adapter.quote(this.identifier) -%}
        {%- set tenant_role = privacy_insights.bi_tenant_role() -%}
        {%- set statements -%}
alter table {{ relation }} enable row level security;
alter table {{ relation }} force row level security;
drop policy if exists tenant_isolation_policy on {{ relation }};
create policy tenant_isolation_policy on {{ relation }}
    using ({{ column }}::uuid = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
drop policy if exists bi_tenant_login_policy on {{ relation }};
do $tenant$ begin
    if exists (select 1 from pg_roles where rolname = '{{ tenant_role }}')
        and to_regclass('public.bi_tenant_logins') is not null then
        create policy bi_tenant_login_policy on {{ relation }} as restrictive to {{ tenant_role }}
            using ({{ column }}::uuid = (select l.tenant_id from public.bi_tenant_logins as l
                                         where l.login = current_user));
{%- if privacy_insights.grants_to_client_roles() %}
        grant select on {{ relation }} to {{ tenant_role }};
{%- endif %}
    end if;
end $tenant$;
{% if privacy_insights.grants_to_client_roles() -%}
do $grant$ begin
    if exists (select 1 from pg_roles where rolname = 'attribution_app') then
        grant select on {{ relation }} to attribution_app;
    end if;
end $grant$;
{%- endif %}
        {%- endset -%}
        call postgres_execute('{{ this.database }}', '{{ statements | replace("'", "''") }}')
    {%- endif -%}
{%- endmacro %}


{#-
    on-run-end, production builds only: USAGE on every schema holding a model with
    `meta: {rls: ...}` for the application role and the tenant logins' group, once, serially.
-#}
{% macro grant_tenant_schemas() -%}
    {%- if privacy_insights.grants_to_client_roles() and execute -%}
        {%- set schemas = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and (node.config.meta or {}).get('rls') and node.schema not in schemas -%}
                {%- do schemas.append(node.schema) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for schema in schemas -%}
            {%- set statement -%}
do $grant$
declare
    v_role text;
begin
    if exists (select 1 from pg_namespace where nspname = '{{ schema }}') then
        for v_role in select rolname from pg_roles
                      where rolname in ('attribution_app', '{{ privacy_insights.bi_tenant_role() }}') loop
            execute format('grant usage on schema %I to %I', '{{ schema }}', v_role);
        end loop;
    end if;
end $grant$;
            {%- endset -%}
            {%- do run_query("call postgres_execute('" ~ target.database ~ "', '" ~ (statement | replace("'", "''")) ~ "')") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
