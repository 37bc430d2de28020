"""`make up` serves the real Airflow UI: log in as the generated admin user and screenshot the DAG graph."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.support import ROOT, free_port

pytestmark = pytest.mark.integration

TASKS = {"extract_sample", "enrich", "transform", "validate", "publish", "report", "alert", "retain"}


def _listening(port: int) -> list[str]:
    """Addresses with a TCP socket listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:
                    found.append(address)
    return found


@pytest.fixture
def airflow_up():
    port = free_port()
    env = {**os.environ, "AIRFLOW__API__PORT": str(port)}
    started = subprocess.run(["make", "-s", "up"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"Airflow UI: http://127.0.0.1:{port}" in started.stdout
        yield f"http://127.0.0.1:{port}", started.stdout
    finally:
        subprocess.run(["make", "-s", "down"], cwd=ROOT, env=env, capture_output=True, timeout=120)


def test_make_up_serves_the_dag_graph(airflow_up, page):
    url, printed = airflow_up
    home = os.environ["AIRFLOW_HOME"]
    assert f"{home}/simple_auth_manager_passwords.json.generated" in printed
    passwords = f"{home}/simple_auth_manager_passwords.json.generated"
    assert os.stat(passwords).st_mode & 0o777 == 0o600  # was 644: readable by every user of the machine
    assert _listening(8793) == [] and _listening(8794) == []  # the log servers bound 0.0.0.0 and [::]
    with open(passwords) as f:
        password = json.load(f)["admin"]
    page.goto(url)
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    # the dag-processor parses the DAG file a few seconds after start-up: reload until the DAG is there
    for _ in range(30):
        page.goto(f"{url}/dags/socialcx_pipeline")
        graph = page.locator("button[aria-label^='Show Graph']")
        try:
            graph.wait_for(timeout=3000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; try again after the next parse
            continue
    graph.click()
    page.wait_for_selector(".react-flow__node", timeout=30000)
    nodes = [n.split("\n")[0] for n in page.locator(".react-flow__node").all_inner_texts()]
    assert sorted(nodes) == sorted(TASKS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "airflow_dag.png"))
