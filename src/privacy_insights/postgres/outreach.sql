-- Contract 004: outreach event logging on PostgreSQL. Idempotent: safe to run again.
--
-- Runs as the NOLOGIN owner role privacy_insights_owner (privacy_insights.postgres.roles), which
-- owns every object below. Tables and indexes as the contract lists them; RLS enabled on all four
-- tables, no grants to anon / authenticated (clients go through the RPC only); the RPC is
-- SECURITY DEFINER, so it runs as the owner. Who may reach what is listed, with the contract
-- clause behind it, in privileges.yml (checked over the whole catalog by tests_py/pgtap/).
-- Validation order and rules match the dbt staging models (macros/outreach/outreach_rules.sql).
--
-- Search-path safety: `search_path = ''` alone is not enough, because PostgreSQL still looks
-- up type and table names in the caller's pg_temp first (a caller could shadow `uuid` with a
-- domain whose CHECK runs as the RPC's owner). So every SECURITY DEFINER function here sets
-- `search_path = pg_catalog, pg_temp` (pg_temp explicitly last) and qualifies every type,
-- table and function. Operators are resolved in pg_catalog only: PostgreSQL never looks
-- for operators (or functions) in pg_temp, and the path holds no other schema; every operand
-- has a pg_catalog type fixed by the signature. And no client role gets TEMP on the
-- database (the installer revokes it from PUBLIC and from every client role).
--
-- The BLANK_CHARS placeholder is replaced by the installer with the one definition of blank text
-- (privacy_insights.textrules: Unicode White_Space and zero-width characters), ASCII_UPPER and
-- ASCII_LOWER with the letters only whose case is mapped (textrules: ASCII case rule).

create table if not exists public.outreach_sources (
    source_id text primary key,
    label text not null,
    active boolean not null default true,
    created_at timestamptz not null default now()
);

create table if not exists public.outreach_source_aliases (
    alias text primary key check (alias = lower(btrim(alias))),
    source_id text not null references public.outreach_sources (source_id),
    active boolean not null default true,
    created_at timestamptz not null default now()
);

create table if not exists public.outreach_event_logs (
    id uuid primary key default gen_random_uuid(),
    event text not null check (event in ('page_view', 'cta_click')),
    app_key text not null check (length(app_key) between 1 and 40),
    page_key text not null check (length(page_key) between 1 and 80),
    utm_campaign text not null check (length(utm_campaign) between 1 and 128),
    utm_source text not null constraint outreach_event_logs_utm_source_rule
        check (length(utm_source) between 1 and 128 and utm_source = translate(utm_source, __ASCII_UPPER__, __ASCII_LOWER__)),
    utm_medium text not null constraint outreach_event_logs_utm_medium_rule
        check (length(utm_medium) between 1 and 128 and utm_medium = translate(utm_medium, __ASCII_UPPER__, __ASCII_LOWER__)),
    source_id_resolved text not null default 'unknown',
    store text not null default 'unknown' check (store in ('web', 'ios_app_store', 'google_play', 'unknown')),
    session_id text not null check (length(session_id) <= 40 and session_id ~ '^anon_[A-Za-z0-9_-]{16,32}$'),
    country text check (country ~ '^[A-Z]{2}$'),
    ui_locale text check (length(ui_locale) between 2 and 35 and ui_locale !~ '\s'),
    client_event_id uuid,
    created_at timestamptz not null default now()
);

create index if not exists outreach_event_logs_event_created_at_idx
    on public.outreach_event_logs (event, created_at);
create index if not exists outreach_event_logs_utm_created_at_idx
    on public.outreach_event_logs (utm_campaign, utm_source, utm_medium, created_at);
create index if not exists outreach_event_logs_source_created_at_idx
    on public.outreach_event_logs (source_id_resolved, created_at);
create index if not exists outreach_event_logs_session_idx
    on public.outreach_event_logs (session_id);
create unique index if not exists outreach_event_logs_client_event_id_key
    on public.outreach_event_logs (client_event_id) where client_event_id is not null;

-- utm_source and utm_medium hold no ASCII upper-case letter; any other character is kept as sent
-- (textrules: only ASCII letters are case-mapped). Tables of earlier installs checked
-- `= lower(...)`, which a value like 'K' (the Kelvin sign) breaks: their check is replaced.
do $utm_rule$
declare
    v_column pg_catalog.text;
begin
    foreach v_column in array array['utm_source', 'utm_medium'] loop
        if exists (select 1 from pg_catalog.pg_constraint as c
                   where c.conrelid = 'public.outreach_event_logs'::pg_catalog.regclass
                     and c.conname = 'outreach_event_logs_' || v_column || '_check') then
            execute pg_catalog.format(
                'alter table public.outreach_event_logs drop constraint %I, add constraint %I '
                'check (length(%I) between 1 and 128 and %I = translate(%I, %L, %L))',
                'outreach_event_logs_' || v_column || '_check', 'outreach_event_logs_' || v_column || '_rule',
                v_column, v_column, v_column, __ASCII_UPPER__, __ASCII_LOWER__);
        end if;
    end loop;
end
$utm_rule$;

create table if not exists public.outreach_rate_limits (
    k text not null,               -- sha256 (hex) of the limit key; no raw session id is stored
    bucket_start timestamptz not null,
    n integer not null default 0,
    updated_at timestamptz not null default now(),
    primary key (k, bucket_start)
);
create index if not exists outreach_rate_limits_bucket_start_idx on public.outreach_rate_limits (bucket_start);
create index if not exists outreach_rate_limits_updated_at_idx on public.outreach_rate_limits (updated_at);

-- The landing's watermark (privacy_insights.landing; docs/landing.md): every call that logs
-- an event moves loaded_through to its transaction's time, so a stalled RPC shows as a
-- watermark that stops. One row per landing table; it only moves forward.
create table if not exists public.outreach_load_watermark (
    table_name text primary key,
    loaded_through timestamptz not null,
    recorded_at timestamptz not null default now(),
    loader text not null
);

-- Access control: RLS on, nothing granted to clients. The owner (who runs the RPC) owns the
-- tables; the service role maintains the registry, cleans up rate limits (contract 004) and
-- reads the watermark.
alter table public.outreach_sources enable row level security;
alter table public.outreach_source_aliases enable row level security;
alter table public.outreach_event_logs enable row level security;
alter table public.outreach_rate_limits enable row level security;
alter table public.outreach_load_watermark enable row level security;

revoke all on public.outreach_sources, public.outreach_source_aliases, public.outreach_event_logs,
    public.outreach_rate_limits, public.outreach_load_watermark from public, anon, authenticated, service_role;
grant select, insert, update, delete on public.outreach_sources, public.outreach_source_aliases to service_role;
grant select, delete on public.outreach_rate_limits to service_role;
grant select on public.outreach_event_logs to service_role;
grant select on public.outreach_load_watermark to service_role;

drop policy if exists service_role_all on public.outreach_sources;
create policy service_role_all on public.outreach_sources for all to service_role using (true) with check (true);
drop policy if exists service_role_all on public.outreach_source_aliases;
create policy service_role_all on public.outreach_source_aliases for all to service_role using (true) with check (true);
drop policy if exists service_role_all on public.outreach_rate_limits;
create policy service_role_all on public.outreach_rate_limits for all to service_role using (true) with check (true);
drop policy if exists service_role_read on public.outreach_event_logs;
create policy service_role_read on public.outreach_event_logs for select to service_role using (true);
drop policy if exists service_role_read on public.outreach_load_watermark;
create policy service_role_read on public.outreach_load_watermark for select to service_role using (true);

-- Earlier installs gave the RPC to a role of its own (outreach_rpc_owner), with policies of its own.
drop policy if exists outreach_rpc_owner_all on public.outreach_sources;
drop policy if exists outreach_rpc_owner_all on public.outreach_source_aliases;
drop policy if exists outreach_rpc_owner_all on public.outreach_event_logs;
drop policy if exists outreach_rpc_owner_all on public.outreach_rate_limits;

-- Client-facing signature: the contract's input names, so a PostgREST/Supabase client
-- calling with a JSON body {"event": ..., "app_key": ...} finds it. client_event_id is text
-- so a malformed id is INVALID_INPUT, not SQL error 22P02. Older signatures are dropped.
drop function if exists public.outreach_log_event(text, text, text, text, text, text, text, text, text, text, uuid);

create or replace function public.outreach_log_event(
    event pg_catalog.text,
    app_key pg_catalog.text,
    page_key pg_catalog.text,
    utm_campaign pg_catalog.text,
    utm_source pg_catalog.text,
    utm_medium pg_catalog.text,
    session_id pg_catalog.text,
    store pg_catalog.text default null,
    country pg_catalog.text default null,
    ui_locale pg_catalog.text default null,
    client_event_id pg_catalog.text default null
) returns pg_catalog.jsonb
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $fn$
#variable_conflict use_column
declare
    -- Blank = only Unicode whitespace / zero-width characters; trimmed from both ends of every input.
    v_blank constant pg_catalog.text := __BLANK_CHARS__;
    v_event pg_catalog.text := pg_catalog.btrim(outreach_log_event.event, v_blank);
    v_app_key pg_catalog.text := pg_catalog.btrim(outreach_log_event.app_key, v_blank);
    v_page_key pg_catalog.text := pg_catalog.btrim(outreach_log_event.page_key, v_blank);
    v_campaign pg_catalog.text := coalesce(nullif(pg_catalog.btrim(outreach_log_event.utm_campaign, v_blank), ''), 'unknown');
    -- Case: only ASCII letters are mapped (never lower()/upper(), which fold 'K' (Kelvin) to 'k'
    -- and 'ı' to 'I', and depend on the database's locale); anything else is kept as sent.
    v_source pg_catalog.text := pg_catalog.translate(coalesce(nullif(pg_catalog.btrim(outreach_log_event.utm_source, v_blank), ''),
        'unknown'), __ASCII_UPPER__, __ASCII_LOWER__);
    v_medium pg_catalog.text := pg_catalog.translate(coalesce(nullif(pg_catalog.btrim(outreach_log_event.utm_medium, v_blank), ''),
        'unknown'), __ASCII_UPPER__, __ASCII_LOWER__);
    v_store pg_catalog.text := coalesce(nullif(pg_catalog.btrim(outreach_log_event.store, v_blank), ''), 'unknown');
    v_session pg_catalog.text := pg_catalog.btrim(outreach_log_event.session_id, v_blank);
    v_country pg_catalog.text := pg_catalog.btrim(outreach_log_event.country, v_blank);
    v_locale pg_catalog.text := pg_catalog.btrim(outreach_log_event.ui_locale, v_blank);
    v_client_id_text pg_catalog.text := nullif(pg_catalog.btrim(outreach_log_event.client_event_id, v_blank), '');
    v_client_id pg_catalog.uuid;
    v_resolved pg_catalog.text;
    v_id pg_catalog.uuid;
    v_n pg_catalog.int4;
begin
    -- Validation, in the contract's order.
    if v_event is null or v_event not in ('page_view', 'cta_click') then
        return pg_catalog.jsonb_build_object('ok', false, 'code', 'INVALID_EVENT',
            'message', 'event must be page_view or cta_click');
    end if;
    if v_store not in ('web', 'ios_app_store', 'google_play', 'unknown') then
        return pg_catalog.jsonb_build_object('ok', false, 'code', 'INVALID_STORE',
            'message', 'store must be web, ios_app_store, google_play or unknown');
    end if;
    if v_session is null or v_session !~ '^anon_[A-Za-z0-9_-]{16,32}$' then
        return pg_catalog.jsonb_build_object('ok', false, 'code', 'INVALID_SESSION',
            'message', 'session_id must match ^anon_[A-Za-z0-9_-]{16,32}$');
    end if;
    if v_app_key is null or v_app_key = '' or pg_catalog.length(v_app_key) > 40 then
        return pg_catalog.jsonb_build_object('ok', false, 'code', 'INVALID_INPUT',
            'message', 'app_key must be 1 to 40 characters after trim');
    end if;
    if v_page_key is null or v_page_key = '' or pg_catalog.length(v_page_key) > 80 then
        return pg_catalog.jsonb_build_object('ok', false, 'code', 'INVALID_INPUT',
            'message', 'page_key must be 1 to 80 characters after trim');
    end if;
    if pg_catalog.length(v_campaign) > 128 then
        return pg_catalog.jsonb_build_object('ok', false, 'code', 'INVALID_INPUT',
            'message', 'utm_campaign must be at most 128 characters');
    end if;
    if pg_catalog.length(v_source) > 128 then
        return pg_catalog.jsonb_build_object('ok', false, 'code', 'INVALID_INPUT',
            'message', 'utm_source must be at most 128 characters');
    end if;
    if pg_catalog.length(v_medium) > 128 then
        return pg_catalog.jsonb_build_object('ok', false, 'code', 'INVALID_INPUT',
            'message', 'utm_medium must be at most 128 characters');
    end if;
    if v_client_id_text is not null then
        if v_client_id_text !~ '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$' then
            return pg_catalog.jsonb_build_object('ok', false, 'code', 'INVALID_INPUT',
                'message', 'client_event_id must be a UUID');
        end if;
        v_client_id := v_client_id_text::pg_catalog.uuid;
    end if;
    -- Optional context is nulled when invalid, never rejected.
    -- country: two ASCII letters (checked before any case mapping), then upper case; else null.
    if v_country !~ '^[A-Za-z]{2}$' then
        v_country := null;
    end if;
    v_country := pg_catalog.translate(v_country, __ASCII_LOWER__, __ASCII_UPPER__);
    if v_locale is not null and (pg_catalog.length(v_locale) not between 2 and 35
            or pg_catalog.length(pg_catalog.translate(v_locale, v_blank, '')) <> pg_catalog.length(v_locale)) then
        v_locale := null;
    end if;

    -- Idempotency: a known client_event_id returns the existing row, inserts nothing, counts nothing.
    if v_client_id is not null then
        select l.id into v_id from public.outreach_event_logs as l where l.client_event_id = v_client_id;
        if found then
            return pg_catalog.jsonb_build_object('ok', true, 'id', v_id, 'duplicate', true);
        end if;
    end if;

    -- Rate limits: global bucket per minute first, then the session's bucket per hour.
    insert into public.outreach_rate_limits as r (k, bucket_start, n, updated_at)
    values (pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to('global', 'UTF8')), 'hex'),
            pg_catalog.date_trunc('minute', pg_catalog.now()), 1, pg_catalog.now())
    on conflict (k, bucket_start) do update set n = r.n + 1, updated_at = pg_catalog.now()
    returning r.n into v_n;
    if v_n > 500 then
        return pg_catalog.jsonb_build_object('ok', false, 'code', 'RATE_LIMIT_GLOBAL',
            'message', 'more than 500 events this minute');
    end if;
    insert into public.outreach_rate_limits as r (k, bucket_start, n, updated_at)
    values (pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to('session:' || v_session, 'UTF8')), 'hex'),
            pg_catalog.date_trunc('hour', pg_catalog.now()), 1, pg_catalog.now())
    on conflict (k, bucket_start) do update set n = r.n + 1, updated_at = pg_catalog.now()
    returning r.n into v_n;
    if v_n > 100 then
        return pg_catalog.jsonb_build_object('ok', false, 'code', 'RATE_LIMIT_SESSION',
            'message', 'more than 100 events this hour for this session');
    end if;

    -- Source resolution: active registry entry, else active alias, else unknown. Never fails.
    select s.source_id into v_resolved from public.outreach_sources as s where s.source_id = v_source and s.active;
    if v_resolved is null then
        select a.source_id into v_resolved from public.outreach_source_aliases as a where a.alias = v_source and a.active;
    end if;

    insert into public.outreach_event_logs as l (event, app_key, page_key, utm_campaign, utm_source, utm_medium,
        source_id_resolved, store, session_id, country, ui_locale, client_event_id)
    values (v_event, v_app_key, v_page_key, v_campaign, v_source, v_medium, coalesce(v_resolved, 'unknown'),
        v_store, v_session, v_country, v_locale, v_client_id)
    on conflict (client_event_id) where client_event_id is not null do nothing
    returning l.id into v_id;
    if v_id is null then   -- a concurrent call inserted the same client_event_id first
        select l.id into v_id from public.outreach_event_logs as l where l.client_event_id = v_client_id;
        return pg_catalog.jsonb_build_object('ok', true, 'id', v_id, 'duplicate', true);
    end if;
    -- The landing is complete through this call's time (its row commits with the watermark).
    insert into public.outreach_load_watermark as w (table_name, loaded_through, recorded_at, loader)
    values ('outreach_event_logs', pg_catalog.now(), pg_catalog.clock_timestamp(), 'outreach_log_event')
    on conflict (table_name) do update
        set loaded_through = greatest(w.loaded_through, excluded.loaded_through),
            recorded_at = excluded.recorded_at, loader = excluded.loader;
    return pg_catalog.jsonb_build_object('ok', true, 'id', v_id);
end;
$fn$;

revoke all on function public.outreach_log_event(text, text, text, text, text, text, text, text, text, text, text)
    from public, service_role;
-- Contract 004, insert path: "anon and authenticated may call".
grant execute on function public.outreach_log_event(text, text, text, text, text, text, text, text, text, text, text)
    to anon, authenticated;

-- Contract 004: the service role cleans up outreach_rate_limits. A bucket is stale once its
-- window has ended (the global key's minute, a session key's hour): the RPC only ever counts
-- in the current one. Run daily by `privacy-insights postgres retention` (as the database
-- owner); returns how many buckets it deleted. The global key is the RPC's.
create or replace function public.outreach_purge_rate_limits()
returns pg_catalog.int8
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $fn$
declare
    v_global pg_catalog.text := pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to('global', 'UTF8')), 'hex');
    v_deleted pg_catalog.int8;
begin
    with stale as (
        delete from public.outreach_rate_limits as r
        where r.bucket_start < pg_catalog.date_trunc('hour', pg_catalog.now())
           or (r.k = v_global and r.bucket_start < pg_catalog.date_trunc('minute', pg_catalog.now()))
        returning 1
    )
    select pg_catalog.count(*) into v_deleted from stale;
    return v_deleted;
end;
$fn$;

revoke all on function public.outreach_purge_rate_limits() from public;
grant execute on function public.outreach_purge_rate_limits() to service_role, pg_database_owner;
