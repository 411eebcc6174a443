"""Per-tenant BI logins without a database: input rules and the connection URI (docs/bi.md).
The logins themselves are tested on PostgreSQL in test_bi_postgres.py."""

from __future__ import annotations

import re
import subprocess
import urllib.parse

import pytest
from sqlalchemy.engine import make_url

from harness import BIN, REPO
from privacy_insights.postgres import bi_tenants

TENANT = "3f2a9c1e-0b7d-4e5f-9a8b-1c2d3e4f5a6b"


def test_a_tenant_id_is_a_uuid_in_canonical_form():
    assert bi_tenants.check_tenant(f" {TENANT.upper()} ") == TENANT
    for bad in ("acme", TENANT.replace("-", ""), "{" + TENANT + "}", TENANT[:-1] + "g", "", f"{TENANT}'; drop"):
        with pytest.raises(ValueError, match=r"tenant: .* is not a UUID; expected 32 hex digits as 8-4-4-4-12"):
            bi_tenants.check_tenant(bad)


def test_a_login_is_a_plain_role_name_and_the_default_fits_postgres():
    login = bi_tenants.default_login(TENANT)
    assert login == "privacy_insights_bi_tenant_3f2a9c1e0b7d4e5f9a8b1c2d3e4f5a6b" and len(login) <= 63
    for bad in ("Acme", "a-b", "1abc", "x" * 64, 'a"b'):
        with pytest.raises(ValueError, match="login: .* is not a plain role name"):
            bi_tenants.check_login(bad)


@pytest.mark.parametrize("password", ["choose one", "p@ss/w:rd+1%", "#?&=;é ", "a+b"])
def test_the_uri_encodes_the_password_so_sqlalchemy_reads_it_back(password):
    uri = bi_tenants.sqlalchemy_uri("privacy_insights_bi", password, "db.example", 5432, "privacy insights")
    url = make_url(uri)
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "privacy_insights_bi",
        password,
        "db.example",
        5432,
        "privacy insights",
    )
    # the docs' one-liner gives the same encoding
    assert urllib.parse.quote(password, safe="") in uri


def test_quote_plus_would_give_the_wrong_password():
    """Why docs/bi.md says quote(..., safe=''): SQLAlchemy does not read `+` as a space."""
    uri = f"postgresql+psycopg2://bi:{urllib.parse.quote_plus('choose one')}@h:5432/d"
    assert make_url(uri).password == "choose+one"


def test_the_cli_refuses_a_bad_tenant_id_before_connecting():
    result = subprocess.run(
        [str(BIN / "privacy-insights"), "postgres", "bi-tenant", "add", "acme"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PGHOST": "192.0.2.1", "PGCONNECT_TIMEOUT": "1"},  # unreachable on purpose
    )
    assert result.returncode == 2
    assert "tenant: 'acme' is not a UUID" in result.stderr and result.stdout == ""


def test_the_encoding_table_of_the_bi_page_is_right():
    rows = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|$", (REPO / "docs" / "bi.md").read_text(), re.M)
    assert len(rows) >= 2
    for password, encoded in rows:
        assert urllib.parse.quote(password, safe="") == encoded
        assert make_url(f"postgresql+psycopg2://bi:{encoded}@h:5432/d").password == password
