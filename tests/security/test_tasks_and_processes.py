"""What runs around the data: Airflow task logs, worker processes, scratch files, the Airflow UI's listeners."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from tests.support import ROOT

TOKEN = "env-token-abcdef123456"


def test_an_airflow_task_logs_and_fails_without_secrets_or_e_mails(monkeypatch, caplog):
    """Every DAG task runs inside task_hygiene: its records are scrubbed and its error message too."""
    from socialcx.core.logs import ScrubbedError, ScrubFilter, task_hygiene

    monkeypatch.setenv("SOCIALCX_X_BEARER_TOKEN", TOKEN)
    handler = logging.StreamHandler()
    logging.getLogger().addHandler(handler)
    try:
        with pytest.raises(ScrubbedError) as error, task_hygiene():
            assert any(isinstance(f, ScrubFilter) for f in handler.filters)
            raise RuntimeError(f"API said: bad token {TOKEN} for jane.doe@example.com")
    finally:
        logging.getLogger().removeHandler(handler)
    message = str(error.value)
    assert TOKEN not in message and "jane.doe@example.com" not in message
    assert "***" in message and "[email]" in message
    assert error.value.__cause__ is None and error.value.__suppress_context__  # the raw error is not chained


def test_every_dag_task_is_wrapped():
    source = (ROOT / "dags" / "socialcx_pipeline.py").read_text()
    tasks = source.count("@task(")
    assert tasks == source.count("with task_hygiene():") == 11  # enrich_plan, enrich_chunk, enrich_collect and from_postgres too


def test_killing_the_enrich_stage_takes_its_workers_with_it(tmp_path):
    """SIGKILL to the stage's process: its spawned workers end too (they once stayed, 110 MB each)."""
    script = textwrap.dedent("""
        import sys, time
        from nlp.enrich import worker_pool
        with worker_pool(2, "default", wait=True) as pool:
            print(" ".join(str(p.pid) for p in pool.pool._processes.values()), flush=True)
            time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(p) for p in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(p) for p in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.time() + 20
        while time.time() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.2)
        assert not any(_alive(p) for p in workers)
    finally:
        if parent.poll() is None:
            parent.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_gx_scratch_files_stay_private_and_are_removed():
    from expectations.checkpoints import private_tempdir

    before = set(os.listdir(tempfile.gettempdir()))
    with private_tempdir() as private:
        assert tempfile.gettempdir() == str(private)
        assert oct(private.stat().st_mode & 0o777) == "0o700"
        scratch = tempfile.mkdtemp()  # what GX does for its ephemeral Data Docs site
        (private / "x").write_text("y")
        assert scratch.startswith(str(private))
    assert not private.exists()
    assert set(os.listdir(tempfile.gettempdir())) - before == set()


@pytest.mark.integration
def test_validate_leaves_nothing_in_the_temp_dir(copy_built):
    from socialcx import stages

    before = set(os.listdir(tempfile.gettempdir()))
    stages.validate(settings=copy_built)
    left = {name for name in set(os.listdir(tempfile.gettempdir())) - before if not name.startswith("pytest")}
    assert left == set()
