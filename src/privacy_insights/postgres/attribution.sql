-- Contract 003 (B0.3 guarantees): the attribution landing zone on PostgreSQL.
-- Idempotent: safe to run again. Runs as the NOLOGIN owner role privacy_insights_owner
-- (privacy_insights.postgres.roles), which owns every object below. Every guarantee is a
-- database object:
--   idempotency     unique index idx_events_idempotency on (idempotency_key, tenant_id):
--                   one row per (tenant, key), and the contract's lookup by key uses it
--   tenant isolation RLS `tenant_isolation_policy` on every tenant-scoped table, forced (the
--                   owner too), keyed on current_setting('app.current_tenant_id', true):
--                   no tenant set, no rows
--   PII guardrail   trg_events_pii_guardrail rejects a payload with a PII key at any depth
--   audit           trg_revenue_state_audit records every ledger state change
--   performance     the contract's indexes
--   roles           attribution_app: login, not superuser, cannot bypass RLS, cannot write
--                   revenue_state_transitions or delete anything
--   retention       public.attribution_purge(days): SECURITY DEFINER (runs as the owner, whom
--                   RLS lets see and delete only rows past the 90-day retention: policy
--                   retention_purge), executable by the database owner, who need not be a superuser
--
-- Every function sets `search_path = pg_catalog, pg_temp` (pg_temp explicitly last, so a
-- caller's temporary types cannot shadow built-in ones) and qualifies every name. No function
-- is executable by PUBLIC; trigger functions by no client role at all (privileges.yml).
-- The PII_KEY placeholders below are filled in by the installer from
-- privacy_insights.attribution.pii_keys, the one definition of PII keys that the Python
-- stripper and the dbt staging models use too.

create table if not exists public.attribution_events (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null,
    idempotency_key text not null check (length(idempotency_key) between 1 and 200),
    event_type text not null check (event_type in ('click', 'view', 'conversion')),
    channel_code text not null,
    revenue_cents bigint not null default 0 check (revenue_cents >= 0),
    raw_payload jsonb not null default '{}'::jsonb,
    processing_status text not null default 'pending' check (processing_status in ('pending', 'processed', 'failed')),
    processed_at timestamptz,
    occurred_at timestamptz not null,
    created_at timestamptz not null default now()
);
create unique index if not exists idx_events_idempotency on public.attribution_events (idempotency_key, tenant_id);
create index if not exists idx_events_processing_status on public.attribution_events (processing_status, processed_at)
    where processing_status = 'pending';
create index if not exists idx_events_tenant_created_at on public.attribution_events (tenant_id, created_at);

create table if not exists public.attribution_allocations (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null,
    event_id uuid not null references public.attribution_events (id),
    channel_code text not null,
    allocated_revenue_cents bigint not null check (allocated_revenue_cents >= 0),
    confidence_score double precision not null check (confidence_score between 0 and 1),
    created_at timestamptz not null default now()
);
create index if not exists idx_allocations_channel_performance
    on public.attribution_allocations (tenant_id, channel_code, created_at desc)
    include (allocated_revenue_cents, confidence_score);
create index if not exists idx_allocations_event on public.attribution_allocations (event_id);

create table if not exists public.revenue_ledger (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null,
    event_id uuid references public.attribution_events (id),
    amount_cents bigint not null,
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    state text not null default 'pending' check (state in ('pending', 'verified', 'settled', 'refunded')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index if not exists idx_ledger_tenant_created_at on public.revenue_ledger (tenant_id, created_at);
create index if not exists idx_ledger_event on public.revenue_ledger (event_id);

create table if not exists public.revenue_state_transitions (
    id uuid primary key default gen_random_uuid(),
    ledger_id uuid not null references public.revenue_ledger (id),
    from_state text not null,
    to_state text not null,
    reason text not null,
    transitioned_at timestamptz not null default now()
);
-- Order of transitions: two state changes in one transaction share now(), so a sequence
-- number (identity) records the order they happened in.
alter table public.revenue_state_transitions add column if not exists seq bigint generated always as identity;
create index if not exists idx_transitions_ledger on public.revenue_state_transitions (ledger_id, transitioned_at);
create index if not exists idx_transitions_ledger_seq on public.revenue_state_transitions (ledger_id, seq);

create table if not exists public.dead_events (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null,
    raw_payload jsonb not null default '{}'::jsonb,
    error_reason text not null,
    created_at timestamptz not null default now()
);
create index if not exists idx_dead_events_tenant_created_at on public.dead_events (tenant_id, created_at);

create table if not exists public.reconciliation_runs (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    status text not null check (status in ('running', 'succeeded', 'failed')),
    events_checked bigint not null default 0,
    mismatches bigint not null default 0
);
create index if not exists idx_reconciliation_tenant_started_at on public.reconciliation_runs (tenant_id, started_at);

-- PII guardrail: every object key at any depth of the payload.
create or replace function public.fn_jsonb_keys_deep(payload pg_catalog.jsonb) returns setof pg_catalog.text
language sql immutable set search_path = pg_catalog, pg_temp as $fn$
    with recursive node(value) as (
        select payload
        union all
        select child.value
        from node
        cross join lateral (
            select e.value from pg_catalog.jsonb_each(
                case when pg_catalog.jsonb_typeof(node.value) = 'object' then node.value
                     else '{}'::pg_catalog.jsonb end) as e
            union all
            select a.value from pg_catalog.jsonb_array_elements(
                case when pg_catalog.jsonb_typeof(node.value) = 'array' then node.value
                     else '[]'::pg_catalog.jsonb end) as a
        ) as child
    )
    select k.key
    from node
    cross join lateral pg_catalog.jsonb_object_keys(
        case when pg_catalog.jsonb_typeof(node.value) = 'object' then node.value
             else '{}'::pg_catalog.jsonb end) as k(key)
$fn$;

-- A payload key as compared with the PII list: NFKC, case-fold, no diacritics, look-alike
-- letters folded, only a-z0-9 kept (generated from privacy_insights.attribution.pii_keys).
create or replace function public.fn_pii_key_normalised(key pg_catalog.text) returns pg_catalog.text
language sql immutable strict parallel safe set search_path = pg_catalog, pg_temp as $fn$
    select __PII_KEY_NORMALISED__
$fn$;

-- The contract-003 key a normalised key stands for (the list plus documented equivalents), or null.
create or replace function public.fn_pii_contract_key(normalised pg_catalog.text) returns pg_catalog.text
language sql immutable strict parallel safe set search_path = pg_catalog, pg_temp as $fn$
    select __PII_CONTRACT_KEY__
$fn$;

create or replace function public.fn_detect_pii_keys() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $fn$
declare
    v_key pg_catalog.text;
begin
    select keys.contract_key into v_key
    from (
        select public.fn_pii_contract_key(public.fn_pii_key_normalised(k)) as contract_key
        from public.fn_jsonb_keys_deep(new.raw_payload) as k
    ) as keys
    where keys.contract_key is not null
    limit 1;
    if v_key is not null then
        raise exception 'raw_payload: PII key "%" is not allowed (contract 003 privacy guarantee)', v_key
            using errcode = 'check_violation', hint = 'strip PII keys before insert';
    end if;
    return new;
end;
$fn$;

drop trigger if exists trg_events_pii_guardrail on public.attribution_events;
create trigger trg_events_pii_guardrail
    before insert or update on public.attribution_events
    for each row execute function public.fn_detect_pii_keys();

drop trigger if exists trg_dead_events_pii_guardrail on public.dead_events;
create trigger trg_dead_events_pii_guardrail
    before insert or update on public.dead_events
    for each row execute function public.fn_detect_pii_keys();

-- Audit: a state change writes exactly one transition row, numbered by the sequence so
-- that several changes in one transaction keep their order. SECURITY DEFINER so the
-- application role, which may not write transitions itself, still gets them written.
-- A definer trigger function runs as its owner on whatever table it is attached to, and the
-- row it gets has that table's types: attached to a caller's temporary table whose column is
-- the caller's type with the caller's cast to text, the insert below would run the caller's
-- cast as the owner. So it refuses, before it reads any value, to run anywhere but as the
-- BEFORE UPDATE row trigger of public.revenue_ledger (and no client role may EXECUTE it, which
-- CREATE TRIGGER requires). After that check every value has revenue_ledger's own types.
create or replace function public.fn_revenue_state_audit() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
begin
    if tg_relid operator(pg_catalog.<>) 'public.revenue_ledger'::pg_catalog.regclass::pg_catalog.oid
            or tg_op operator(pg_catalog.<>) 'UPDATE' or tg_when operator(pg_catalog.<>) 'BEFORE'
            or tg_level operator(pg_catalog.<>) 'ROW' then
        raise exception 'fn_revenue_state_audit: runs only as the BEFORE UPDATE row trigger of public.revenue_ledger, '
            'not on %.% (%, %)', tg_table_schema, tg_table_name, tg_when, tg_op
            using errcode = 'insufficient_privilege';
    end if;
    insert into public.revenue_state_transitions (ledger_id, from_state, to_state, reason, transitioned_at)
    values (new.id, old.state, new.state,
            coalesce(nullif(pg_catalog.current_setting('app.transition_reason', true), ''), 'unspecified'),
            pg_catalog.clock_timestamp());
    new.updated_at := pg_catalog.clock_timestamp();
    return new;
end;
$fn$;

drop trigger if exists trg_revenue_state_audit on public.revenue_ledger;
create trigger trg_revenue_state_audit
    before update of state on public.revenue_ledger
    for each row when (old.state is distinct from new.state)
    execute function public.fn_revenue_state_audit();

-- A ledger row starts as pending: any other state can only be reached by an UPDATE, which
-- the audit trigger records. A row inserted directly in a later state would have no
-- transition, so it is rejected.
create or replace function public.fn_revenue_ledger_initial_state() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $fn$
begin
    if new.state is distinct from 'pending' then
        raise exception 'state: a new revenue_ledger row must start as pending, got "%" (contract 003 audit: '
            'every later state is reached by an UPDATE that trg_revenue_state_audit records)', new.state
            using errcode = 'check_violation', hint = 'insert as pending, then update the state';
    end if;
    return new;
end;
$fn$;

drop trigger if exists trg_revenue_ledger_initial_state on public.revenue_ledger;
create trigger trg_revenue_ledger_initial_state
    before insert on public.revenue_ledger
    for each row execute function public.fn_revenue_ledger_initial_state();

-- Tenant isolation.
do $rls$
declare
    t text;
begin
    foreach t in array array['attribution_events', 'attribution_allocations', 'revenue_ledger', 'dead_events',
                             'reconciliation_runs']
    loop
        execute format('alter table public.%I enable row level security', t);
        execute format('alter table public.%I force row level security', t);
        execute format('drop policy if exists tenant_isolation_policy on public.%I', t);
        execute format(
            'create policy tenant_isolation_policy on public.%I '
            'using (tenant_id = nullif(current_setting(''app.current_tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''app.current_tenant_id'', true), '''')::uuid)', t);
    end loop;
end
$rls$;

-- Transitions have no tenant column: a row is visible when its ledger row is.
alter table public.revenue_state_transitions enable row level security;
alter table public.revenue_state_transitions force row level security;
drop policy if exists tenant_isolation_policy on public.revenue_state_transitions;
create policy tenant_isolation_policy on public.revenue_state_transitions
    using (exists (select 1 from public.revenue_ledger as l where l.id = ledger_id));
-- The audit trigger (running as the owner) records every state change whoever makes it: a
-- change the ledger's own policies allowed is recorded even when the owner, without the tenant
-- set, could not see the ledger row (the foreign key still requires the row to exist).
drop policy if exists audit_trigger_insert on public.revenue_state_transitions;
create policy audit_trigger_insert on public.revenue_state_transitions for insert to privacy_insights_owner
    with check (true);

-- Grants: the application role ingests and reads; it cannot write transitions or delete.
revoke all on public.attribution_events, public.attribution_allocations, public.revenue_ledger,
    public.revenue_state_transitions, public.dead_events, public.reconciliation_runs from public, attribution_app;
grant select, insert on public.attribution_events, public.attribution_allocations, public.dead_events,
    public.reconciliation_runs to attribution_app;
grant update (processing_status, processed_at) on public.attribution_events to attribution_app;
grant update (finished_at, status, events_checked, mismatches) on public.reconciliation_runs to attribution_app;
grant select, insert on public.revenue_ledger to attribution_app;
grant update (state) on public.revenue_ledger to attribution_app;
grant select on public.revenue_state_transitions to attribution_app;

-- Functions: none for PUBLIC. The PII trigger is SECURITY INVOKER, so it runs as the role that
-- inserts (attribution_app) and calls the three helpers with that role's rights; the trigger
-- functions themselves are for no client role (a trigger fires without EXECUTE).
revoke all on function public.fn_jsonb_keys_deep(pg_catalog.jsonb), public.fn_pii_key_normalised(pg_catalog.text),
    public.fn_pii_contract_key(pg_catalog.text), public.fn_detect_pii_keys(), public.fn_revenue_state_audit(),
    public.fn_revenue_ledger_initial_state() from public, attribution_app;
grant execute on function public.fn_jsonb_keys_deep(pg_catalog.jsonb), public.fn_pii_key_normalised(pg_catalog.text),
    public.fn_pii_contract_key(pg_catalog.text) to attribution_app;

-- The landing's watermark (privacy_insights.landing; docs/landing.md): ingestion moves
-- loaded_through to the time of each event it lands, in the event's own transaction, so a
-- stalled ingestion shows as a watermark that stops. Loader metadata, no tenant data: the
-- application role reads and moves it; it only moves forward.
create table if not exists public.attribution_load_watermark (
    table_name text primary key,
    loaded_through timestamptz not null,
    recorded_at timestamptz not null default now(),
    loader text not null
);
alter table public.attribution_load_watermark enable row level security;
drop policy if exists ingestion_watermark on public.attribution_load_watermark;
create policy ingestion_watermark on public.attribution_load_watermark for all to attribution_app
    using (true) with check (true);
revoke all on public.attribution_load_watermark from public, attribution_app;
grant select, insert, update on public.attribution_load_watermark to attribution_app;

-- Retention (contract 003: analytics rows live 90 days). The purge runs as the owner through a
-- SECURITY DEFINER function. RLS is forced on the tables, also for their owner, so the owner
-- gets its own policy: it sees, and may delete, only rows past the 90-day retention (and rows
-- hanging off an expired event or ledger row). No role needs BYPASSRLS, and the purge can
-- never reach a row younger than 90 days.
drop policy if exists retention_purge on public.attribution_events;
create policy retention_purge on public.attribution_events for all to privacy_insights_owner
    using (created_at < now() - interval '90 days');
drop policy if exists retention_purge on public.dead_events;
create policy retention_purge on public.dead_events for all to privacy_insights_owner
    using (created_at < now() - interval '90 days');
drop policy if exists retention_purge on public.attribution_allocations;
create policy retention_purge on public.attribution_allocations for all to privacy_insights_owner
    using (created_at < now() - interval '90 days'
           or exists (select 1 from public.attribution_events as e where e.id = event_id));
drop policy if exists retention_purge on public.revenue_ledger;
create policy retention_purge on public.revenue_ledger for all to privacy_insights_owner
    using (created_at < now() - interval '90 days'
           or exists (select 1 from public.attribution_events as e where e.id = event_id));
-- revenue_state_transitions: its tenant_isolation_policy already shows a transition when its
-- ledger row is visible, which for the owner means expired (or of the tenant set).

create or replace function public.attribution_purge(days pg_catalog.int4)
returns table (table_name pg_catalog.text, deleted pg_catalog.int8)
language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
#variable_conflict use_column
declare
    v_cutoff pg_catalog.timestamptz;
    v_table pg_catalog.text;
begin
    if days is null or days < 90 or days > 3650 then
        raise exception 'days: must be between 90 (contract 003 retention) and 3650, got %', days
            using errcode = 'invalid_parameter_value';
    end if;
    -- Fail loudly rather than delete nothing: without its policies the owner sees no rows.
    foreach v_table in array array['attribution_events', 'attribution_allocations', 'revenue_ledger', 'dead_events']
    loop
        if not exists (select 1 from pg_catalog.pg_policies as p
                       where p.schemaname = 'public' and p.tablename = v_table and p.policyname = 'retention_purge'
                         and 'privacy_insights_owner' = any (p.roles)) then
            raise exception 'retention: policy retention_purge is missing on public.%, so the purge cannot see '
                'its rows; run `privacy-insights postgres install attribution`', v_table
                using errcode = 'insufficient_privilege';
        end if;
    end loop;
    if current_user <> 'privacy_insights_owner' then
        raise exception 'retention: attribution_purge must run as privacy_insights_owner, runs as %', current_user
            using errcode = 'insufficient_privilege';
    end if;

    v_cutoff := pg_catalog.now() - pg_catalog.make_interval(days => days);
    -- One statement: every delete sees the same snapshot, foreign keys are checked at its end.
    return query
    with expired_events as (
        select e.id from public.attribution_events as e where e.created_at < v_cutoff
    ),
    expired_ledger as (
        select l.id from public.revenue_ledger as l
        where l.created_at < v_cutoff or l.event_id in (select x.id from expired_events as x)
    ),
    transitions as (
        delete from public.revenue_state_transitions as t
        where t.ledger_id in (select x.id from expired_ledger as x) returning 1
    ),
    allocations as (
        delete from public.attribution_allocations as a
        where a.created_at < v_cutoff or a.event_id in (select x.id from expired_events as x) returning 1
    ),
    ledger as (
        delete from public.revenue_ledger as l where l.id in (select x.id from expired_ledger as x) returning 1
    ),
    dead as (
        delete from public.dead_events as d where d.created_at < v_cutoff returning 1
    ),
    events as (
        delete from public.attribution_events as e where e.id in (select x.id from expired_events as x) returning 1
    )
    select 'revenue_state_transitions'::pg_catalog.text, (select pg_catalog.count(*) from transitions)
    union all select 'attribution_allocations', (select pg_catalog.count(*) from allocations)
    union all select 'revenue_ledger', (select pg_catalog.count(*) from ledger)
    union all select 'dead_events', (select pg_catalog.count(*) from dead)
    union all select 'attribution_events', (select pg_catalog.count(*) from events);
end;
$fn$;

-- Contract 003 retention ("a daily automated job"): `privacy-insights postgres retention`, run
-- by the database owner (pg_database_owner follows whoever owns this database).
revoke all on function public.attribution_purge(pg_catalog.int4) from public;
grant execute on function public.attribution_purge(pg_catalog.int4) to pg_database_owner;
