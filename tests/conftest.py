"""Test settings: every test runs against throw-away paths, never the developer's warehouse or Airflow home.

The environment is set before anything imports Airflow, which reads AIRFLOW_HOME at import time.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support import ROOT, VENV_BIN

_TMP = Path(tempfile.mkdtemp(prefix="socialcx-tests-"))

os.environ.update({
    "AIRFLOW_HOME": str(_TMP / "airflow"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__CORE__PARALLELISM": "4",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "PROVIDERS__ENABLE_AIRFLOW_SECRETS": "false",
    "TQDM_DISABLE": "1",
    "SOCIALCX_WAREHOUSE": str(_TMP / "warehouse" / "socialcx.duckdb"),
    "SOCIALCX_PUBLISH_DIR": str(_TMP / "published"),
    "SOCIALCX_REPORTS_DIR": str(_TMP / "reports"),
    "SOCIALCX_SAMPLE_POSTS": "2000",
    "SOCIALCX_SAMPLE_SEED": "7",
    "SOCIALCX_LOCK_RETRIES": "2",
    "SOCIALCX_CACHE_DIR": str(_TMP / "cache"),  # compiled rule databases (nlp/components/prefilter.py)
    # the sample world's dates are fixed and the wall clock moves: retention is tested on its own
    "SOCIALCX_RAW_TEXT_RETENTION_DAYS": "0",
})


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings pointing at a fresh warehouse, publish and reports folder under tmp_path."""
    from socialcx.core.settings import get_settings

    monkeypatch.setenv("SOCIALCX_WAREHOUSE", str(tmp_path / "wh" / "socialcx.duckdb"))
    monkeypatch.setenv("SOCIALCX_PUBLISH_DIR", str(tmp_path / "published"))
    monkeypatch.setenv("SOCIALCX_REPORTS_DIR", str(tmp_path / "reports"))
    return get_settings()


@pytest.fixture
def con(tmp_path: Path):
    from socialcx.core.warehouse import open_warehouse

    with open_warehouse(tmp_path / "unit.duckdb") as connection:
        yield connection


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory):
    """A warehouse that went through every stage once (small sample world), shared read-only by tests.

    Tests that change it copy it first (see ``copy_built``).
    """
    from socialcx import stages
    from socialcx.core.settings import Settings

    base = tmp_path_factory.mktemp("built")
    env = {"SOCIALCX_WAREHOUSE": str(base / "wh" / "socialcx.duckdb"), "SOCIALCX_PUBLISH_DIR": str(base / "published"),
           "SOCIALCX_REPORTS_DIR": str(base / "reports")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        settings = Settings()
        results = stages.run_all(settings=settings, posts=1500, seed=11)
    finally:
        for key, value in old.items():
            if value is not None:
                os.environ[key] = value
    return settings, results


@pytest.fixture
def copy_built(built, tmp_path, monkeypatch):
    """A private copy of the ``built`` warehouse and published files, for tests that change them."""
    import shutil

    import duckdb

    from socialcx.core.settings import get_settings

    settings, _ = built
    wh = tmp_path / "wh" / "socialcx.duckdb"
    wh.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("checkpoint")  # fold the WAL into the file before copying it
    shutil.copy(settings.warehouse, wh)
    shutil.copytree(settings.publish_dir, tmp_path / "published", symlinks=True)  # relative links: a whole set
    monkeypatch.setenv("SOCIALCX_WAREHOUSE", str(wh))
    monkeypatch.setenv("SOCIALCX_PUBLISH_DIR", str(tmp_path / "published"))
    monkeypatch.setenv("SOCIALCX_REPORTS_DIR", str(tmp_path / "reports"))
    return get_settings()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory):
    """A real PostgreSQL server from Debian's packages on a free loopback port, for the session; stopped after."""
    from tests.support.postgres_server import PostgresServer

    server = PostgresServer(tmp_path_factory.mktemp("postgres")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_target(postgres_server, request, monkeypatch: pytest.MonkeyPatch) -> str:
    """SOCIALCX_TARGET=postgres on a fresh database of the session's server (named after the test); its URL."""
    import re

    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:50]
    url = postgres_server.create_database(name)
    monkeypatch.setenv("SOCIALCX_TARGET", "postgres")
    monkeypatch.setenv("SOCIALCX_POSTGRES_URL", url)
    return url


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated Airflow metadata DB (SQLite) under the test AIRFLOW_HOME, with the DuckDB pool."""
    airflow = str(VENV_BIN / "airflow")
    subprocess.run([airflow, "db", "migrate"], check=True, capture_output=True)
    subprocess.run([airflow, "pools", "set", "socialcx_duckdb", "1", "DuckDB writers"], check=True, capture_output=True)
    return os.environ["AIRFLOW_HOME"]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (tests/browser, tests/security)."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium with `bash scripts/ensure_chromium.sh` "
                    "(make test does), or set SOCIALCX_CHROMIUM to a Chromium binary")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records JavaScript errors in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    new_page = context.new_page()
    new_page.errors = []
    new_page.on("pageerror", lambda error: new_page.errors.append(str(error)))
    new_page.on("console", lambda message: new_page.errors.append(message.text) if message.type == "error" else None)
    yield new_page
    context.close()
