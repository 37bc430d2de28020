"""Where the PostgreSQL target's connection comes from, and what an error about it says (never the password)."""

from __future__ import annotations

import json

import pytest

from socialcx.core import postgres


def test_the_url_wins_then_airflows_connection_from_the_environment(monkeypatch):
    monkeypatch.setenv("SOCIALCX_POSTGRES_URL", "postgresql://care:s%40cret@db.internal:6543/analytics")
    monkeypatch.setenv("AIRFLOW_CONN_SOCIALCX_WAREHOUSE", "postgresql://other:x@elsewhere/other")
    url = postgres.configured_url()
    assert (url.host, url.port, url.user, url.password, url.database) == ("db.internal", 6543, "care", "s@cret",
                                                                         "analytics")
    assert url.env()["SOCIALCX_PG_PASSWORD"] == "s@cret" and "s@cret" not in url.describe()
    monkeypatch.delenv("SOCIALCX_POSTGRES_URL")
    assert postgres.configured_url().host == "elsewhere"  # Airflow's URI form, default port
    assert postgres.configured_url().port == 5432
    monkeypatch.setenv("AIRFLOW_CONN_SOCIALCX_WAREHOUSE", json.dumps(
        {"conn_type": "postgres", "host": "pg", "login": "bi", "password": "pw", "schema": "wh", "port": 5433}))
    url = postgres.configured_url()
    assert (url.host, url.port, url.user, url.password, url.database) == ("pg", 5433, "bi", "pw", "wh")


@pytest.mark.parametrize("bad", ["mysql://u:topsecret@h/db", "postgresql://h/db", "postgresql://u:topsecret@h/"])
def test_a_bad_url_is_named_without_its_password(monkeypatch, bad):
    monkeypatch.setenv("SOCIALCX_POSTGRES_URL", bad)
    with pytest.raises(ValueError) as caught:
        postgres.configured_url()
    assert "SOCIALCX_POSTGRES_URL" in str(caught.value) and "topsecret" not in str(caught.value)


def test_an_unknown_target_is_refused(monkeypatch):
    from socialcx.core.settings import Settings

    monkeypatch.setenv("SOCIALCX_TARGET", "snowflake")
    with pytest.raises(ValueError, match="SOCIALCX_TARGET='snowflake' is not one of duckdb, postgres"):
        Settings()


def test_the_password_is_masked_once_read(monkeypatch):
    from socialcx.core.logs import scrub

    monkeypatch.delenv("SOCIALCX_POSTGRES_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_SOCIALCX_WAREHOUSE", json.dumps(
        {"conn_type": "postgres", "host": "pg", "login": "bi", "password": "pw-kept-out-of-logs", "schema": "wh"}))
    postgres.configured_url()
    monkeypatch.delenv("AIRFLOW_CONN_SOCIALCX_WAREHOUSE")  # masked although no variable holds it any more
    assert "pw-kept-out-of-logs" not in scrub("connect failed for bi:pw-kept-out-of-logs@pg")
