from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pytest

from extractors.crm.extract import CrmSourceError, extract_crm
from tests.support import ROOT, free_port

FIXTURES = ROOT / "tests" / "fixtures" / "crm"


def test_csv_folder_loads_customers_and_orders_and_quarantines_bad_rows(con):
    customers, orders = extract_crm(con, str(FIXTURES), run_id="r1")
    assert (customers.read, customers.loaded, customers.quarantined) == (4, 2, 2)
    assert (orders.read, orders.loaded, orders.quarantined) == (7, 3, 4)
    assert orders.reasons == {"unparseable ordered_at": 1, "amount is not a number": 1, "missing brand": 1,
                              "negative amount": 1}
    assert con.execute("select order_id, amount, currency from raw.orders order by order_id").fetchall() == [
        ("O1", 320.50, "USD"), ("O2", 199.00, "USD"), ("O3", 88.00, "USD")]
    assert con.execute("select social_handle from raw.customers where customer_id = 'K1'").fetchall() == [("traveller0",)]
    reasons = {r for (r,) in con.execute("select reason from raw.quarantine where source = 'crm'").fetchall()}
    assert "raw.customers: missing customer_id" in reasons and "raw.orders: negative amount" in reasons


def test_reloading_is_idempotent_and_edits_update(con, tmp_path):
    folder = tmp_path / "crm"
    shutil.copytree(FIXTURES, folder)
    extract_crm(con, str(folder), run_id="r1")
    customers, orders = extract_crm(con, str(folder), run_id="r2")
    assert customers.inserted == customers.updated == orders.inserted == orders.updated == 0
    text = (folder / "orders.csv").read_text().replace("320.50", "330.50")
    (folder / "orders.csv").write_text(text)
    _, orders = extract_crm(con, str(folder), run_id="r3")
    assert (orders.inserted, orders.updated) == (0, 1)
    assert con.execute("select count(*) from raw.quarantine").fetchall() == [(6,)]


def test_any_sqlalchemy_url_works(con, tmp_path):
    db = tmp_path / "crm.sqlite"
    with sqlite3.connect(db) as lite:
        lite.execute("create table customers (customer_id text, social_handle text, name text, created_at text)")
        lite.execute("insert into customers values ('K9', 'pat', 'Pat', '2025-01-01')")
        lite.execute("create table orders (order_id text, customer_id text, brand text, ordered_at text, amount real)")
        lite.execute("insert into orders values ('O9', 'K9', 'AcmeAirCare', '2026-01-01T08:00:00', 12.5)")
    customers, orders = extract_crm(con, f"sqlite:///{db}", run_id="r1")
    assert (customers.loaded, orders.loaded) == (1, 1)
    assert con.execute("select brand, amount, currency from raw.orders").fetchall() == [("AcmeAirCare", 12.5, "USD")]


def test_missing_inputs_say_what_to_do(con, tmp_path):
    with pytest.raises(CrmSourceError, match="has no customers.csv or customers.parquet"):
        extract_crm(con, str(tmp_path), run_id="r1")
    with pytest.raises(CrmSourceError, match="no CRM location: set SOCIALCX_CRM"):
        extract_crm(con, "", run_id="r1")
    with pytest.raises(CrmSourceError, match="has no table 'customers'"):
        extract_crm(con, f"sqlite:///{tmp_path / 'empty.sqlite'}", run_id="r1")


@pytest.mark.skipif(shutil.which("initdb") is None or shutil.which("pg_ctl") is None,
                    reason="PostgreSQL server binaries (initdb, pg_ctl) are not installed")
def test_postgresql_crm(con, tmp_path):
    """A real PostgreSQL on 127.0.0.1, started for this test and stopped after it."""

    import psycopg2

    base = Path(tempfile.mkdtemp(prefix="socialcx-pg-"))
    data = base / "pg"
    data.mkdir()
    # PostgreSQL refuses to run as root: as root, run it as nobody in a folder nobody can reach
    user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    if user:
        base.chmod(0o755)
        shutil.chown(data, "nobody")
    subprocess.run([*user, "initdb", "-D", str(data), "-U", "crm", "--auth=trust"], check=True, capture_output=True)
    port = free_port()
    subprocess.run([*user, "pg_ctl", "-D", str(data), "-l", str(data / "log"), "-o",
                    f"-h 127.0.0.1 -p {port} -k {data}", "start", "-w"], check=True, capture_output=True)
    try:
        for _ in range(50):
            try:
                pg = psycopg2.connect(host="127.0.0.1", port=port, user="crm", dbname="postgres")
                break
            except psycopg2.OperationalError:
                time.sleep(0.2)
        pg.autocommit = True
        with pg.cursor() as cur:
            cur.execute("create table customers (customer_id text, social_handle text, name text, created_at timestamptz)")
            cur.execute("insert into customers values ('P1', 'pgfan', 'Pg Fan', '2025-03-01T00:00:00Z')")
            cur.execute("create table orders (order_id text, customer_id text, brand text, ordered_at timestamptz, "
                        "amount numeric(12,2), currency text)")
            cur.execute("insert into orders values ('PO1', 'P1', 'AcmeAirCare', '2026-02-01T00:00:00Z', 42.10, 'EUR')")
        pg.close()
        customers, orders = extract_crm(con, f"postgresql+psycopg2://crm@127.0.0.1:{port}/postgres", run_id="r1")
        assert (customers.loaded, orders.loaded) == (1, 1)
        assert con.execute("select amount, currency from raw.orders").fetchall() == [(Decimal("42.10"), "EUR")]
    finally:
        subprocess.run([*user, "pg_ctl", "-D", str(data), "stop", "-m", "fast"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
