{#-
    Post-hook for tenant-scoped marts: on PostgreSQL, a model whose config has
    `meta: {rls: <tenant column>}` gets row-level security, forced:
      - `tenant_isolation_policy` (permissive, every role): the landing zone's policy on
        app.current_tenant_id; no tenant set, no rows;
      - for the group of the per-tenant BI logins, when `privacy-insights postgres install bi`
        has created it (docs/bi.md): `bi_tenant_login_rows` (permissive) shows a login the rows
        of the tenant public.bi_tenant_logins maps current_user to, with or without the
        setting, and `bi_tenant_login_policy` (restrictive) shows it nothing else. So a tenant
        login reads exactly its tenant's rows, whatever it sets app.current_tenant_id to.
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
drop policy if exists bi_tenant_login_rows on {{ relation }};
drop policy if exists bi_tenant_login_policy on {{ relation }};
do $tenant$ begin
    if exists (select 1 from pg_roles where rolname = '{{ tenant_role }}')
        and to_regclass('public.bi_tenant_logins') is not null then
        create policy bi_tenant_login_rows on {{ relation }} for select to {{ tenant_role }}
            using ({{ column }}::uuid = (select l.tenant_id from public.bi_tenant_logins as l
                                         where l.login = current_user));
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
        {%- do privacy_insights.on_schemas_for_roles(
            schemas, ['attribution_app', privacy_insights.bi_tenant_role()], ['grant usage on schema %I to %I']) -%}
    {%- endif -%}
{%- endmacro %}
