-- BI on PostgreSQL (docs/bi.md): the map of per-tenant BI logins to their tenant.
-- Idempotent: safe to run again; the rows (the logins) are kept.
--
-- Runs as the NOLOGIN owner role privacy_insights_owner, which owns the table. The roles are
-- created by the installer before this runs: privacy_insights_bi (the read-only BI login) and
-- privacy_insights_bi_tenant (NOLOGIN, the group every per-tenant BI login is a member of).
--
-- `privacy-insights postgres bi-tenant add <tenant uuid>` creates a login in that group and
-- writes its row here. The attribution marts carry, beside the tenant policy on
-- app.current_tenant_id, two policies for the group (dbt macro apply_tenant_rls): a permissive
-- one that shows the rows of the tenant this table maps current_user to, and a restrictive one
-- that shows nothing else. A session may SET app.current_tenant_id to anything; it never
-- changes what a tenant login reads. The group reads only its own row here, so a login learns
-- no other tenant.

create table if not exists public.bi_tenant_logins (
    login text primary key check (login ~ '^[a-z_][a-z0-9_]{0,62}$'),
    tenant_id uuid not null,
    created_at timestamptz not null default pg_catalog.now()
);

comment on table public.bi_tenant_logins is
    'Per-tenant BI logins (privacy-insights postgres bi-tenant add): the one tenant each login may read in the attribution marts.';
comment on column public.bi_tenant_logins.login is 'Login role, a member of privacy_insights_bi_tenant.';
comment on column public.bi_tenant_logins.tenant_id is 'The tenant whose attribution rows the login reads, and no other.';
comment on column public.bi_tenant_logins.created_at is 'When the login was added.';

alter table public.bi_tenant_logins enable row level security;
alter table public.bi_tenant_logins force row level security;

-- A tenant login sees its own row only (the marts' restrictive policy reads it as that login).
drop policy if exists tenant_isolation_policy on public.bi_tenant_logins;
create policy tenant_isolation_policy on public.bi_tenant_logins
    for select to privacy_insights_bi_tenant
    using (login = current_user::text);

-- The database owner (the installer) adds, lists and removes the logins.
drop policy if exists bi_tenant_logins_admin on public.bi_tenant_logins;
create policy bi_tenant_logins_admin on public.bi_tenant_logins
    for all to pg_database_owner
    using (true)
    with check (true);

grant select on public.bi_tenant_logins to privacy_insights_bi_tenant;
grant select, insert, delete on public.bi_tenant_logins to pg_database_owner;
