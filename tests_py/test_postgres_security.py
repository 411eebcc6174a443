"""Issue 26 (and issue 12 point 1): no path from a client role to the owner of what
`privacy-insights postgres install` creates, tried as an attacker would against EVERY
SECURITY DEFINER function of a fresh install of every part, enumerated from pg_catalog (a
definer function added later is attacked the moment it exists).

Attackers: a login with no grants at all, and a login that is a member of service_role.
Each attack runs in three settings:
- ``installed``: the roles exactly as the install leaves them (no TEMP for client roles);
- ``temp``: TEMP granted to the attacker by name, as on a database where PUBLIC keeps it;
- ``temp_execute``: TEMP, EXECUTE on the function and the roles its ordinary use needs, as if
  a grant were mistaken: the function itself must hold.
Attacks:
- the trigger/cast escalation: a pg_temp enum with an implicit cast (to every column type of
  the tables the function serves) whose function is the attacker's, a temporary table of
  columns of that enum, and the definer function attached to it as a trigger. Before the fix
  `fn_revenue_state_audit` ran the attacker's cast as the superuser that owned it;
- the pg_temp domain trick: domains named like built-in types (text, uuid, jsonb, ...) in
  pg_temp whose CHECK is the attacker's, then the function's ordinary use.
The attacker's code is one function, ``pg_temp.oracle()``, that raises ``ESCALATED`` when it
runs as any role but the attacker: the attack succeeded if that text is ever seen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg
import pytest

from harness import REPO, postgres_admin, scratch_database
from privacy_insights import postgres

pytestmark = pytest.mark.postgres

TENANT = "aaaaaaaa-0000-4000-a000-000000000026"
# Type names a definer function could resolve; each gets a pg_temp domain of the same name.
SHADOWED = ["text", "uuid", "jsonb", "json", "int2", "int4", "int8", "integer", "bigint", "numeric", "float8",
            "bool", "boolean", "timestamptz", "timestamp", "date", "interval", "name", "oid", "regclass",
            "bytea", "varchar", "bpchar"]  # fmt: skip
# How each definer function is reached in ordinary use: the roles that use needs, and its
# statements (run in one transaction). A definer function missing here fails the test, so a
# new one is attacked as soon as it is added (add its ordinary use here).
USES = {
    "outreach_log_event": (
        [],
        [
            "select public.outreach_log_event(event => 'page_view', app_key => 'kinly-web', page_key => '/', "
            "utm_campaign => 'Spring', utm_source => 'FB', utm_medium => 'cpc', "
            "session_id => 'anon_attacker_0123456789', country => 'de', ui_locale => 'de-DE', "
            f"client_event_id => '{uuid.UUID(int=26)}')"
        ],
    ),
    "outreach_purge_rate_limits": ([], ["select public.outreach_purge_rate_limits()"]),
    "attribution_purge": ([], ["select * from public.attribution_purge(90)"]),
    "fn_revenue_state_audit": (
        ["attribution_app"],
        [
            f"set local app.current_tenant_id = '{TENANT}'",
            "set local app.transition_reason = 'attack'",
            f"insert into public.revenue_ledger (tenant_id, amount_cents, currency) values ('{TENANT}', 1, 'USD')",
            "update public.revenue_ledger set state = 'verified' where state = 'pending'",
        ],
    ),
}
ORACLE = """
create function pg_temp.oracle() returns pg_catalog.bool language plpgsql as $$
begin
    if current_user operator(pg_catalog.<>) session_user then
        raise exception 'ESCALATED: the attacker''s code ran as % (superuser: %)', current_user,
            (select r.rolsuper from pg_catalog.pg_roles as r where r.rolname = current_user);
    end if;
    return true;
end $$
"""


@dataclass(frozen=True)
class Definer:
    signature: str  # regprocedure, schema-qualified
    name: str
    is_trigger: bool
    columns: tuple[tuple[str, str], ...]  # (name, type) of the tables it is a trigger of

    @property
    def grants(self) -> list[str]:
        return USES[self.name][0]


@pytest.fixture(scope="module")
def installed(postgres_available) -> str:
    with scratch_database() as name:
        with postgres_admin(name) as admin:
            for component in postgres.COMPONENTS:
                postgres.install(admin, component, REPO / "seeds")
        yield name


@pytest.fixture(scope="module")
def definers(installed) -> list[Definer]:
    with postgres_admin(installed) as admin:
        admin.execute("set search_path = pg_catalog")
        rows = admin.execute(
            "select p.oid::regprocedure::text, p.proname, p.prorettype = 'trigger'::regtype, "
            "       array(select distinct a.attname || ' ' || format_type(a.atttypid, a.atttypmod) "
            "             from pg_trigger as t join pg_attribute as a on a.attrelid = t.tgrelid "
            "             where t.tgfoid = p.oid and a.attnum > 0 and not a.attisdropped) "
            "from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace "
            "where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema') "
            "  and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%' "
            "  and not exists (select 1 from pg_depend as d where d.classid = 'pg_proc'::regclass "
            "                  and d.objid = p.oid and d.deptype = 'e') "
            "order by 1"
        ).fetchall()
    found = [
        Definer(sig, name, is_trigger, tuple(tuple(c.split(" ", 1)) for c in sorted(cols)))
        for sig, name, is_trigger, cols in rows
    ]
    names = {d.name for d in found}
    # The enumeration must see the functions we know of, or the test proves nothing.
    assert names >= {"outreach_log_event", "fn_revenue_state_audit", "attribution_purge"}, names
    assert names <= set(USES), f"SECURITY DEFINER functions without an ordinary use in USES: {names - set(USES)}"
    for d in found:
        assert not d.is_trigger or d.columns, f"{d.signature}: a definer trigger function on no table"
    return found


@pytest.fixture
def attackers(installed):
    """Two fresh login roles, dropped (with every privilege they got) afterwards."""
    suffix = uuid.uuid4().hex[:10]
    roles = {"plain login": f"pi_t26_plain_{suffix}", "service_role member": f"pi_t26_svc_{suffix}"}
    with postgres_admin(installed) as admin:
        for role in roles.values():
            admin.execute(f"create role {role} login")
        admin.execute(f"grant service_role to {roles['service_role member']}")
    try:
        yield roles
    finally:
        with postgres_admin(installed) as admin:
            for role in roles.values():
                admin.execute(f"drop owned by {role}")
                admin.execute(f"drop role {role}")


def grant_setting(database: str, role: str, setting: str, definer: Definer) -> list[str]:
    """Grant what the setting gives the attacker; the statements that take it back."""
    grants = []
    if setting in ("temp", "temp_execute"):
        grants.append(
            (
                f'grant temporary on database "{database}" to {role}',
                f'revoke temporary on database "{database}" from {role}',
            )
        )
    if setting == "temp_execute":
        grants.append(
            (
                f"grant execute on function {definer.signature} to {role}",
                f"revoke execute on function {definer.signature} from {role}",
            )
        )
        grants += [(f"grant {g} to {role}", f"revoke {g} from {role}") for g in definer.grants]
    with postgres_admin(database) as admin:
        for give, _ in grants:
            admin.execute(give)
    return [take for _, take in grants]


def attempt(database: str, role: str, statements: list[str], in_transaction: bool = False) -> tuple[str, str]:
    """Run the attacker's statements as ``role``; (how far it got, the first error or '')."""
    with psycopg.connect(dbname=database, host="127.0.0.1", user=role, autocommit=True) as conn:
        try:
            if in_transaction:
                with conn.transaction():
                    for statement in statements:
                        conn.execute(statement)
            else:
                for statement in statements:
                    conn.execute(statement)
        except psycopg.Error as exc:
            return type(exc).__name__, str(exc)
    return "completed", ""


def trigger_cast_attack(definer: Definer) -> tuple[list[str], list[str]]:
    """(setup, firing) statements of the trigger/cast escalation against ``definer``."""
    columns = definer.columns or (("id", "uuid"), ("state", "text"), ("updated_at", "timestamp with time zone"))
    setup = [ORACLE, "create type pg_temp.evil as enum ('a', 'b')"]
    for i, column_type in enumerate(sorted({t for _, t in columns})):
        setup += [
            f"create function pg_temp.evil_to_{i}(pg_temp.evil) returns {column_type} language plpgsql as "
            f"$$ begin perform pg_temp.oracle(); return null; end $$",
            f"create cast (pg_temp.evil as {column_type}) with function pg_temp.evil_to_{i}(pg_temp.evil) as implicit",
        ]
    names = [name for name, _ in columns]
    setup += [
        "create temp table fake (" + ", ".join(f'"{n}" pg_temp.evil' for n in names) + ")",
        f"create trigger attack before insert or update or delete on pg_temp.fake for each row "
        f"execute function {definer.signature}",
    ]
    firing = [
        "insert into pg_temp.fake values (" + ", ".join("'a'" for _ in names) + ")",
        "update pg_temp.fake set " + ", ".join(f"\"{n}\" = 'b'" for n in names),
        "delete from pg_temp.fake",
    ]
    return setup, firing


def domain_attack(definer: Definer) -> list[str]:
    """Setup of the pg_temp domain trick: every type name in SHADOWED is the attacker's domain."""
    setup = [ORACLE]
    for name in SHADOWED:
        base = {"integer": "int4", "bigint": "int8", "boolean": "bool"}.get(name, name)
        setup.append(f'create domain pg_temp."{name}" as pg_catalog.{base} check (pg_temp.oracle())')
    return setup


SETTINGS = ["installed", "temp", "temp_execute"]
ATTACKERS = ["plain login", "service_role member"]


def run_attack(database: str, role: str, setting: str, definer: Definer, statements: list[str]) -> tuple[str, str]:
    revoke = grant_setting(database, role, setting, definer)
    try:
        return attempt(database, role, statements)
    finally:
        with postgres_admin(database) as admin:
            for statement in revoke:
                admin.execute(statement)


def assert_never_escalated(outcomes: dict[Definer, tuple[str, str]], attacker: str, setting: str) -> None:
    escalated = {d.signature: error.splitlines()[0] for d, (_, error) in outcomes.items() if "ESCALATED" in error}
    assert not escalated, f"{attacker} ({setting}) ran code as another role through: {escalated}"


@pytest.mark.parametrize("attacker", ATTACKERS)
@pytest.mark.parametrize("setting", SETTINGS)
def test_trigger_cast_escalation_fails_against_every_definer_function(
    installed, definers, attackers, attacker, setting
):
    role = attackers[attacker]
    outcomes = {d: run_attack(installed, role, setting, d, sum(trigger_cast_attack(d), [])) for d in definers}
    assert_never_escalated(outcomes, attacker, setting)
    for definer, (stage, error) in outcomes.items():
        assert stage != "completed", f"{definer.signature}: the attack ran to the end ({attacker}, {setting})"
        if setting == "installed":  # no TEMP: the first step already fails
            assert stage == "InsufficientPrivilege" and "temporary" in error, (definer.signature, error)
        elif definer.is_trigger and setting == "temp":  # no EXECUTE: CREATE TRIGGER refuses it
            assert stage == "InsufficientPrivilege" and "permission denied for function" in error, (definer, error)
        elif definer.is_trigger:  # EXECUTE by mistake: the function refuses a table not its own
            assert stage == "InsufficientPrivilege" and "runs only as" in error, (definer, error)
        else:  # not a trigger function: CREATE TRIGGER finds no such trigger function, or may not use it
            assert stage in ("UndefinedFunction", "InvalidObjectDefinition", "InsufficientPrivilege"), (definer, error)


@pytest.mark.parametrize("attacker", ATTACKERS)
@pytest.mark.parametrize("setting", SETTINGS)
def test_pg_temp_domain_trick_fails_against_every_definer_function(installed, definers, attackers, attacker, setting):
    role = attackers[attacker]
    outcomes = {
        d: run_attack(installed, role, setting, d, [*domain_attack(d), "begin", *USES[d.name][1], "commit"])
        for d in definers
    }
    assert_never_escalated(outcomes, attacker, setting)
    for definer, (stage, error) in outcomes.items():
        if setting == "installed":
            assert stage == "InsufficientPrivilege" and "temporary" in error, (definer.signature, error)
        elif setting == "temp_execute":  # the shadowing domains were there, and the function ran to the end
            assert stage == "completed", (definer.signature, error)
