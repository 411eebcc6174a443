"""Issue 12 point 2: one PII-key definition for the Python stripper, the PostgreSQL trigger and
the dbt staging quarantine, driven by one case table (tests_py/pii_key_cases.py).

The DuckDB staging side of the case table runs inside the attribution staging build of
tests_py/test_attribution_marts.py, so it costs no extra dbt build.
"""

from __future__ import annotations

import json

import duckdb
import psycopg
import pytest

from harness import REPO
from pii_key_cases import CASES, key, payload_json
from privacy_insights import postgres
from privacy_insights.attribution.ingest import strip_pii

TENANT = "aaaaaaaa-0000-4000-a000-000000000001"


@pytest.mark.parametrize("nested", [False, True])
def test_python_stripper_follows_the_case_table(nested):
    for name, key_json, expected in CASES:
        payload = json.loads(payload_json(key_json, nested))
        stripped, removed = strip_pii(payload)
        assert bool(removed) == (expected is not None), (name, removed)
        assert key(key_json) not in json.dumps(stripped, ensure_ascii=False) or expected is None, name


@pytest.mark.postgres
def test_postgres_trigger_follows_the_case_table(postgres_database):
    with psycopg.connect(dbname=postgres_database, host="127.0.0.1", user="postgres", autocommit=True) as admin:
        postgres.install(admin, "attribution", REPO / "seeds")
    insert = (
        "insert into public.attribution_events (tenant_id, idempotency_key, event_type, channel_code, "
        "raw_payload, occurred_at) values (%s, %s, 'click', 'email', %s::jsonb, now())"
    )
    with psycopg.connect(dbname=postgres_database, host="127.0.0.1", user="attribution_app", autocommit=True) as app:
        for i, (_name, key_json, expected) in enumerate(CASES):
            for nested in (False, True):
                with app.transaction():
                    app.execute(f"set local app.current_tenant_id = '{TENANT}'")
                    if expected is None:
                        app.execute(insert, [TENANT, f"k{i}-{nested}", payload_json(key_json, nested)])
                        continue
                    with pytest.raises(psycopg.errors.CheckViolation, match=f'PII key "{expected}" is not allowed'):
                        with app.transaction():
                            app.execute(insert, [TENANT, f"k{i}-{nested}", payload_json(key_json, nested)])


@pytest.mark.postgres
def test_postgres_and_duckdb_normalise_every_mapped_character_as_python_does(postgres_database):
    """Beyond the case table: the whole generated map, in both SQL engines."""
    from privacy_insights.attribution import pii_keys

    text = "".join(pii_keys.replacements()) + "".join(pii_keys.char_map()) + " -_.\u200bXyZ09"
    expected = pii_keys.normalise(text)
    with psycopg.connect(dbname=postgres_database, host="127.0.0.1", user="postgres", autocommit=True) as admin:
        postgres.install(admin, "attribution", REPO / "seeds")
        assert admin.execute("select public.fn_pii_key_normalised(%s)", [text]).fetchone()[0] == expected
    con = duckdb.connect()
    assert con.execute(f"select {pii_keys.sql_normalise('?')}", [text]).fetchone()[0] == expected


def test_contract_key_follows_the_case_table():
    from privacy_insights.attribution import pii_keys

    for name, key_json, expected in CASES:
        assert pii_keys.contract_key(key(key_json)) == expected, name


def test_generated_dbt_macro_is_fresh():
    from privacy_insights.attribution import pii_keys

    assert (REPO / pii_keys.MACRO_PATH).read_text() == pii_keys.dbt_macro(), (
        "macros/attribution/pii_keys.sql is stale: run `python -m privacy_insights.attribution.pii_keys`"
    )
