-- Contract 003 (B0.3 guarantees): the attribution landing zone on PostgreSQL.
-- Idempotent: safe to run again. Every guarantee is a database object:
--   idempotency     unique index idx_events_idempotency on (idempotency_key, tenant_id):
--                   one row per (tenant, key), and the contract's lookup by key uses it
--   tenant isolation RLS `tenant_isolation_policy` on every tenant-scoped table, keyed on
--                   current_setting('app.current_tenant_id', true): no tenant set, no rows
--   PII guardrail   trg_events_pii_guardrail rejects a payload with a PII key at any depth
--   audit           trg_revenue_state_audit records every ledger state change
--   performance     the contract's indexes
--   roles           attribution_app: login, not superuser, cannot bypass RLS, cannot write
--                   revenue_state_transitions or delete anything

do $roles$
begin
    if not exists (select 1 from pg_roles where rolname = 'attribution_app') then
        create role attribution_app login nosuperuser nobypassrls nocreatedb nocreaterole;
    end if;
end
$roles$;

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
create index if not exists idx_transitions_ledger on public.revenue_state_transitions (ledger_id, transitioned_at);

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
create or replace function public.fn_jsonb_keys_deep(payload jsonb) returns setof text
language sql immutable set search_path = '' as $fn$
    with recursive node(value) as (
        select payload
        union all
        select child.value
        from node
        cross join lateral (
            select e.value from pg_catalog.jsonb_each(
                case when pg_catalog.jsonb_typeof(node.value) = 'object' then node.value else '{}'::jsonb end) as e
            union all
            select a.value from pg_catalog.jsonb_array_elements(
                case when pg_catalog.jsonb_typeof(node.value) = 'array' then node.value else '[]'::jsonb end) as a
        ) as child
    )
    select k.key
    from node
    cross join lateral pg_catalog.jsonb_object_keys(
        case when pg_catalog.jsonb_typeof(node.value) = 'object' then node.value else '{}'::jsonb end) as k(key)
$fn$;

create or replace function public.fn_detect_pii_keys() returns trigger
language plpgsql set search_path = '' as $fn$
declare
    v_key text;
begin
    select k into v_key
    from public.fn_jsonb_keys_deep(new.raw_payload) as k
    where pg_catalog.lower(k) = any (array['email', 'phone', 'ssn', 'ip_address', 'first_name', 'last_name', 'address'])
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

-- Audit: a state change writes exactly one transition row. SECURITY DEFINER so the
-- application role, which may not write transitions itself, still gets them written.
create or replace function public.fn_revenue_state_audit() returns trigger
language plpgsql security definer set search_path = '' as $fn$
begin
    insert into public.revenue_state_transitions (ledger_id, from_state, to_state, reason, transitioned_at)
    values (new.id, old.state, new.state,
            coalesce(nullif(pg_catalog.current_setting('app.transition_reason', true), ''), 'unspecified'),
            pg_catalog.now());
    new.updated_at := pg_catalog.now();
    return new;
end;
$fn$;

drop trigger if exists trg_revenue_state_audit on public.revenue_ledger;
create trigger trg_revenue_state_audit
    before update of state on public.revenue_ledger
    for each row when (old.state is distinct from new.state)
    execute function public.fn_revenue_state_audit();

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

-- Grants: the application role ingests and reads; it cannot write transitions or delete.
revoke all on public.attribution_events, public.attribution_allocations, public.revenue_ledger,
    public.revenue_state_transitions, public.dead_events, public.reconciliation_runs from public, attribution_app;
grant usage on schema public to attribution_app;
grant select, insert on public.attribution_events, public.attribution_allocations, public.dead_events,
    public.reconciliation_runs to attribution_app;
grant update (processing_status, processed_at) on public.attribution_events to attribution_app;
grant update (finished_at, status, events_checked, mismatches) on public.reconciliation_runs to attribution_app;
grant select, insert on public.revenue_ledger to attribution_app;
grant update (state) on public.revenue_ledger to attribution_app;
grant select on public.revenue_state_transitions to attribution_app;
