-- Read-only role for BI tools (README "BI on PostgreSQL"). Idempotent: re-running changes
-- nothing. It may log in (give it a password, or grant it to your BI users), but it owns
-- nothing, cannot create anything and starts every transaction read-only. What it may
-- read is granted by dbt after each build, table by table: SELECT on every mart with
-- `access: public` and USAGE on their schemas (macros/postgres/publish_for_bi.sql).
-- Row-level security applies to it as to anyone: tenant-scoped attribution marts show it
-- only the rows of `app.current_tenant_id`.

do $roles$
begin
    if not exists (select 1 from pg_roles where rolname = 'privacy_insights_bi') then
        create role privacy_insights_bi login nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
    end if;
end
$roles$;

alter role privacy_insights_bi set default_transaction_read_only = on;
