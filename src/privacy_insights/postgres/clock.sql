-- Contract 000 §10 (039, 044, 040): server time and timing policies on PostgreSQL.
-- Idempotent: safe to run again. `privacy-insights postgres install clock` then loads the
-- policies from seeds/timing_policies.csv (the one source; rows not in the seed are removed).
--
-- Runs as the NOLOGIN owner role privacy_insights_owner, which owns every object below.
-- Every function is SECURITY INVOKER (nothing here needs more than the caller's rights),
-- pins `search_path = pg_catalog, pg_temp` and names every object with its schema.

-- The server's UTC clock for client/server time sync, callable before login (anon).
-- Shape (stable, schema_version 1):
--   {"server_time_utc": "2026-11-25T09:30:00.123456Z", "unix_epoch_ms": 1795426200123,
--    "time_zone": "UTC", "source": "postgresql.clock_timestamp", "schema_version": 1}
-- Both times are the same instant: clock_timestamp() read once, at the call (not the
-- transaction start), whatever the session's TimeZone.
create or replace function public.get_server_time()
returns jsonb
language sql
volatile
security invoker
set search_path = pg_catalog, pg_temp
as $$
    select pg_catalog.jsonb_build_object(
        'server_time_utc', pg_catalog.to_char(now_utc.t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'unix_epoch_ms', pg_catalog.floor(pg_catalog.date_part('epoch', now_utc.t) * 1000)::bigint,
        'time_zone', 'UTC',
        'source', 'postgresql.clock_timestamp',
        'schema_version', 1
    )
    from (select pg_catalog.clock_timestamp() as t) as now_utc
$$;

revoke all on function public.get_server_time() from public;
grant execute on function public.get_server_time() to anon, authenticated, service_role;

-- Timing policies (040): one row per scheduled job; mirrors seeds/timing_policies.csv.
create table if not exists public.atomic_timing_policies_v1 (
    job_name text primary key check (job_name ~ '^[a-z][a-z0-9_]{0,62}$'),
    cadence_minutes integer not null check (cadence_minutes between 1 and 1440 and 1440 % cadence_minutes = 0),
    window_start_hour_utc integer not null check (window_start_hour_utc between 0 and 23),
    window_end_hour_utc integer not null check (window_end_hour_utc between 1 and 24),
    max_staleness_hours integer not null check (max_staleness_hours * 60 >= cadence_minutes),
    description text not null default '',
    updated_at timestamptz not null default pg_catalog.now(),
    check (window_start_hour_utc <> window_end_hour_utc)
);

alter table public.atomic_timing_policies_v1 enable row level security;
revoke all on public.atomic_timing_policies_v1 from public, anon, authenticated;
grant select on public.atomic_timing_policies_v1 to service_role;
drop policy if exists service_role_read on public.atomic_timing_policies_v1;
create policy service_role_read on public.atomic_timing_policies_v1 for select to service_role using (true);

-- A job's policy as JSON for schedulers and ops (service role only); an unknown job is an error.
create or replace function public.atomic_timing_get_policy_v1(p_job_name text)
returns jsonb
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
declare
    result jsonb;
begin
    if p_job_name is null or pg_catalog.btrim(p_job_name) = '' then
        raise exception 'p_job_name: required (a job_name of atomic_timing_policies_v1)'
            using errcode = '22023';
    end if;
    select pg_catalog.to_jsonb(p) - 'updated_at' into result
    from public.atomic_timing_policies_v1 as p
    where p.job_name = p_job_name;
    if result is null then
        raise exception 'p_job_name: no timing policy named %', pg_catalog.quote_literal(p_job_name)
            using errcode = 'P0002';
    end if;
    return result;
end
$$;

revoke all on function public.atomic_timing_get_policy_v1(text) from public;
grant execute on function public.atomic_timing_get_policy_v1(text) to service_role;
