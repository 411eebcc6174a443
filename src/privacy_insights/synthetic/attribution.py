"""Attribution events and the revenue ledger (contract 003), as exported from the landing zone.

Several tenants; ``attribution_duplicate_share`` of events repeat an idempotency key;
``attribution_pii_share`` of payloads carry a PII key (``email``, ``phone``, ``ssn``,
``ip_address``, ``first_name``, ``last_name``, ``address``) at some nesting depth;
every conversion has two allocations and a ledger row whose state moved through
``pending -> verified -> settled (-> refunded)``, with one transition row per move.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from privacy_insights.synthetic.common import labels, timestamps, uuid_sql
from privacy_insights.synthetic.config import GeneratorConfig

TENANTS = 4
EVENT_TYPES = ["click", "view", "conversion"]
CHANNELS = ["google_search", "meta_ads", "email", "direct", "affiliate", "tiktok_ads"]
STATUSES = ["processed", "pending", "failed"]
LEDGER_STATES = ["pending", "verified", "settled", "refunded"]
TRANSITION_REASONS = ["payment_verified", "payout_settled", "customer_refund"]
PII_PAYLOADS = [  # (format with the event's channel), one PII key each, at varied depths
    '{{"channel":"{c}","email":"buyer@example.com"}}',
    '{{"channel":"{c}","customer":{{"contact":{{"phone":"+1 555 0100"}}}}}}',
    '{{"channel":"{c}","items":[{{"sku":"A1"}},{{"sku":"B2","meta":{{"ssn":"000-00-0000"}}}}]}}',
    '{{"channel":"{c}","client":{{"ip_address":"203.0.113.9"}}}}',
    '{{"channel":"{c}","shipping":{{"first_name":"Ada","last_name":"L","address":"1 Main St"}}}}',
]


def tenant_sql(seed: int, expression: str) -> str:
    return uuid_sql(f"'t{seed}-' || {expression}")


def generate_chunk(cfg: GeneratorConfig, rng: np.random.Generator, offset: int, n: int) -> dict[str, pa.Table]:
    window_start = cfg.start_epoch_s + cfg.days * 86_400 - cfg.attribution_days * 86_400
    row_id = np.arange(offset, offset + n, dtype=np.int64)
    tenant = rng.choice(TENANTS, n, p=[0.4, 0.3, 0.2, 0.1])
    occurred_s = window_start + rng.integers(0, cfg.attribution_days * 86_400, n)
    created_s = occurred_s + rng.integers(1, 120, n)
    event_type = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    channel = rng.integers(0, len(CHANNELS), n)
    status = rng.choice(3, n, p=[0.85, 0.10, 0.05])
    revenue = np.where(event_type == 2, np.round(rng.lognormal(8, 1, n)).astype(np.int64), 0)

    key_row = row_id.copy()
    dup = (rng.random(n) < cfg.attribution_duplicate_share) & (np.arange(n) > 0)
    original = (rng.random(n) * np.arange(n)).astype(np.int64)
    key_row[dup] = row_id[original[dup]]
    tenant[dup] = tenant[original[dup]]
    pii_kind = np.where(rng.random(n) < cfg.attribution_pii_share, rng.integers(1, len(PII_PAYLOADS) + 1, n), 0)
    dead = rng.random(n) < 0.005

    events = pa.table(
        {
            "row_id": pa.array(row_id),
            "key_row": pa.array(key_row),
            "tenant": pa.array(tenant),
            "event_type": labels(event_type, EVENT_TYPES),
            "channel": labels(channel, CHANNELS),
            "revenue_cents": pa.array(revenue),
            "status": labels(status, STATUSES),
            "occurred_at": timestamps(occurred_s * 1_000_000),
            "created_at": timestamps(created_s * 1_000_000),
            "pii_kind": pa.array(pii_kind.astype(np.int8)),
            "dead": pa.array(dead),
        }
    )

    conv = np.flatnonzero((event_type == 2) & ~dup)
    n_conv = conv.size
    # Two allocations per conversion: its own channel (share s) and "direct" (1 - s).
    share = rng.uniform(0.5, 0.9, n_conv)
    alloc_rev = np.concatenate([np.round(revenue[conv] * share), revenue[conv] - np.round(revenue[conv] * share)])
    allocations = pa.table(
        {
            "event_row": pa.array(np.concatenate([row_id[conv], row_id[conv]])),
            "slot": pa.array(np.repeat([0, 1], n_conv)),
            "tenant": pa.array(np.concatenate([tenant[conv], tenant[conv]])),
            "channel": labels(np.concatenate([channel[conv], np.full(n_conv, CHANNELS.index("direct"))]), CHANNELS),
            "allocated_revenue_cents": pa.array(alloc_rev.astype(np.int64)),
            "confidence_score": pa.array(np.round(rng.uniform(0.5, 1.0, 2 * n_conv), 3)),
            "created_at": timestamps(np.concatenate([created_s[conv], created_s[conv]]) * 1_000_000 + 1),
        }
    )

    # Ledger: final state index k means k transitions happened, each some hours apart.
    state = rng.choice(4, n_conv, p=[0.2, 0.25, 0.45, 0.10])
    gaps = rng.integers(3_600, 3 * 86_400, (n_conv, 3)).cumsum(axis=1)
    ledger_created = created_s[conv] + 5
    updated = np.where(state == 0, ledger_created, ledger_created + gaps[np.arange(n_conv), np.maximum(state - 1, 0)])
    ledger = pa.table(
        {
            "event_row": pa.array(row_id[conv]),
            "tenant": pa.array(tenant[conv]),
            "amount_cents": pa.array(revenue[conv]),
            "currency": labels(rng.choice(2, n_conv, p=[0.7, 0.3]), ["USD", "EUR"]),
            "state": labels(state, LEDGER_STATES),
            "created_at": timestamps(ledger_created * 1_000_000),
            "updated_at": timestamps(updated * 1_000_000),
        }
    )
    t_ledger = np.repeat(np.arange(n_conv), state)
    t_step = np.concatenate([np.arange(k) for k in state]) if n_conv else np.zeros(0, dtype=np.int64)
    transitions = pa.table(
        {
            "event_row": pa.array(row_id[conv][t_ledger]),
            "step": pa.array(t_step.astype(np.int64)),
            "from_state": labels(t_step, LEDGER_STATES),
            "to_state": labels(t_step + 1, LEDGER_STATES),
            "reason": labels(t_step, TRANSITION_REASONS),
            "transitioned_at": timestamps((ledger_created[t_ledger] + gaps[t_ledger, t_step]) * 1_000_000),
        }
    )
    return {
        "attribution_events": events,
        "attribution_allocations": allocations,
        "revenue_ledger": ledger,
        "revenue_state_transitions": transitions,
    }


def select_sql(table: str, seed: int) -> str:
    """Turn a generated chunk's ``table`` (registered as ``chunk``) into raw rows."""
    if table == "attribution_events":
        templates = [p.replace("{{", "{").replace("}}", "}").replace("{c}", "%s") for p in PII_PAYLOADS]
        pii_cases = "\n".join(
            f"        when {i} then printf('{template}', channel::varchar)"
            for i, template in enumerate(templates, start=1)
        )
        return f"""
select
    {uuid_sql(f"'ae{seed}-' || row_id")} as id,
    {tenant_sql(seed, "tenant")} as tenant_id,
    'idem_' || md5('k{seed}-' || key_row) as idempotency_key,
    event_type::varchar as event_type,
    channel::varchar as channel_code,
    revenue_cents,
    case pii_kind
{pii_cases}
        else printf('{{"channel":"%s","event_type":"%s","page":"/p/%d"}}',
                    channel::varchar, event_type::varchar, row_id % 50)
    end as raw_payload,
    status::varchar as processing_status,
    case when status::varchar = 'pending' then null else created_at + interval 30 second end as processed_at,
    occurred_at,
    created_at
from chunk
"""
    if table == "attribution_allocations":
        return f"""
select
    {uuid_sql(f"'al{seed}-' || event_row || '-' || slot")} as id,
    {tenant_sql(seed, "tenant")} as tenant_id,
    {uuid_sql(f"'ae{seed}-' || event_row")} as event_id,
    channel::varchar as channel_code,
    allocated_revenue_cents,
    confidence_score,
    created_at
from chunk
"""
    if table == "revenue_ledger":
        return f"""
select
    {uuid_sql(f"'rl{seed}-' || event_row")} as id,
    {tenant_sql(seed, "tenant")} as tenant_id,
    {uuid_sql(f"'ae{seed}-' || event_row")} as event_id,
    amount_cents,
    currency::varchar as currency,
    state::varchar as state,
    created_at,
    updated_at
from chunk
"""
    if table == "revenue_state_transitions":
        return f"""
select
    {uuid_sql(f"'rt{seed}-' || event_row || '-' || step")} as id,
    {uuid_sql(f"'rl{seed}-' || event_row")} as ledger_id,
    from_state::varchar as from_state,
    to_state::varchar as to_state,
    reason::varchar as reason,
    transitioned_at
from chunk
"""
    raise ValueError(f"table: no select for {table!r}")


def dead_events_sql(seed: int) -> str:
    """Events that failed validation upstream land in dead_events with a reason."""
    return f"""
select
    {uuid_sql(f"'de{seed}-' || row_id")} as id,
    {tenant_sql(seed, "tenant")} as tenant_id,
    printf('{{"channel":"%s","revenue_cents":-%d}}', channel::varchar, row_id % 997 + 1) as raw_payload,
    'revenue_cents must not be negative' as error_reason,
    created_at
from chunk
where dead
"""


def reconciliation_sql(cfg: GeneratorConfig) -> str:
    """One reconciliation run per tenant per day over the attribution window."""
    window_start = cfg.start_epoch_s + cfg.days * 86_400 - cfg.attribution_days * 86_400
    return f"""
select
    {uuid_sql(f"'rr{cfg.seed}-' || t || '-' || d")} as id,
    {tenant_sql(cfg.seed, "t")} as tenant_id,
    to_timestamp({window_start} + d * 86400 + 7200) as started_at,
    case when (t * 31 + d) % 97 = 0 then null
         else to_timestamp({window_start} + d * 86400 + 7200 + 300 + (t * 7 + d) % 600) end as finished_at,
    case when (t * 31 + d) % 97 = 0 then 'running' when (t + d) % 41 = 0 then 'failed' else 'succeeded' end as status,
    1000 + (t * 131 + d * 17) % 5000 as events_checked,
    case when (t + d) % 41 = 0 then 3 + (d % 5) else 0 end as mismatches
from range({TENANTS}) r1(t), range({cfg.attribution_days}) r2(d)
"""
