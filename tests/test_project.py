"""The project's wiring: README commands, CI, settings documented, compose file valid, lint clean."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.support import ROOT, VENV_BIN


def test_readme_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_block = readme[: readme.index("```", readme.index("```") + 3)]
    assert "make run" in first_block and "make test" in first_block


def test_ci_runs_the_readme_test_command():
    assert re.search(r"^make test\b", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)


def test_env_example_lists_every_setting():
    from socialcx.core.sources import env_example

    used = set(re.findall(r'"(SOCIALCX_[A-Z_]+)"', (ROOT / "socialcx" / "core" / "settings.py").read_text()))
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^(SOCIALCX_[A-Z_]+)=", example, re.MULTILINE))
    assert used and used <= listed
    # the sources' block is the registry's, as `socialcx env-example` prints it
    assert env_example() in example


def test_ruff_with_airflow_rules_is_clean():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "AIR" in config["select"]  # AIR3xx: Airflow 3 removals and moves
    result = subprocess.run([str(VENV_BIN / "ruff"), "check", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout


COMPOSE_SECRETS = {"AIRFLOW_ADMIN_PASSWORD": "s3cret-admin", "AIRFLOW_JWT_SECRET": "0123456789abcdef0123",
                   "POSTGRES_PASSWORD": "pg-pass-123", "WAREHOUSE_PASSWORD": "wh-pass-456"}


def _compose_env(**overrides: str) -> dict[str, str]:
    import os

    # compose's own defaults, not what this process set (dbt's runner exports SOCIALCX_TARGET, for one)
    env = {k: v for k, v in os.environ.items() if k not in COMPOSE_SECRETS and not k.startswith("SOCIALCX_")}
    return {**env, **overrides}


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client on this machine")
def test_compose_file_is_valid():
    import yaml

    compose = subprocess.run(["bash", str(ROOT / "scripts" / "compose_cmd.sh")], capture_output=True, text=True,
                             check=True).stdout.split()
    base = [*compose, "-f", str(ROOT / "docker-compose.yml")]
    env = _compose_env(**COMPOSE_SECRETS)
    result = subprocess.run([*base, "config", "--quiet"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr
    services = subprocess.run([*base, "config", "--services"], capture_output=True, text=True, cwd=ROOT,
                              check=True, env=env).stdout.split()
    assert {"postgres", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker", "redis", "warehouse-db"} <= set(services)
    config = yaml.safe_load(subprocess.run([*base, "config"], capture_output=True, text=True, cwd=ROOT,
                                           check=True, env=env).stdout)
    services = config["services"]
    common = services["airflow-scheduler"]["environment"]
    # the secrets given are the ones used; the admin password is read (written to the auth manager's file)
    assert common["AIRFLOW__API_AUTH__JWT_SECRET"] == COMPOSE_SECRETS["AIRFLOW_JWT_SECRET"]
    assert ":pg-pass-123@" in common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pg-pass-123"
    # Celery: Redis as the broker, a worker service to scale; the warehouse is its own PostgreSQL, reached through
    # the Airflow connection socialcx_warehouse
    assert common["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"

    def command(service: str) -> str:
        given = services[service]["command"]
        return given if isinstance(given, str) else " ".join(given)

    # the scaled workers take Airflow's default queue; one worker, beside the working DuckDB file, the queue of
    # the tasks that open it (dags/socialcx_pipeline.py: QUEUE)
    assert "celery worker --queues default" in command("airflow-worker")
    assert "container_name" not in services["airflow-worker"]  # `--scale airflow-worker=4` needs unnamed containers
    assert "celery worker --queues socialcx_duckdb" in command("airflow-worker-duckdb")
    assert "/data/warehouse" in str(services["airflow-worker-duckdb"]["volumes"])
    assert services["warehouse-db"]["environment"]["POSTGRES_PASSWORD"] == "wh-pass-456"
    assert common["AIRFLOW_CONN_SOCIALCX_WAREHOUSE"].endswith(":wh-pass-456@warehouse-db:5432/socialcx")
    assert common["SOCIALCX_TARGET"] == "postgres"
    init = services["airflow-init"]
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"] == "s3cret-admin"
    assert "AIRFLOW_ADMIN_PASSWORD" in command("airflow-init")
    assert common["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == "/opt/airflow/auth/passwords.json"
    # no log server listening on every interface
    for name in ("airflow-scheduler", "airflow-triggerer"):
        assert "--skip-serve-logs" in command(name)


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client on this machine")
@pytest.mark.parametrize("missing", sorted(COMPOSE_SECRETS))
def test_compose_refuses_to_start_without_each_secret(missing):
    """No default secrets: without one of them compose stops, naming the variable."""
    compose = subprocess.run(["bash", str(ROOT / "scripts" / "compose_cmd.sh")], capture_output=True, text=True,
                             check=True).stdout.split()
    env = _compose_env(**{k: v for k, v in COMPOSE_SECRETS.items() if k != missing})
    result = subprocess.run([*compose, "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
                            capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_compose_file_rejects_a_broken_stack(tmp_path):
    """The validation is real: a service that depends on one that does not exist is refused."""
    if shutil.which("docker") is None:
        pytest.skip("no docker client on this machine")
    compose = subprocess.run(["bash", str(ROOT / "scripts" / "compose_cmd.sh")], capture_output=True, text=True,
                             check=True).stdout.split()
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  a:\n    image: x\n    depends_on: [missing]\n")
    result = subprocess.run([*compose, "-f", str(broken), "config", "--quiet"], capture_output=True, text=True)
    assert result.returncode != 0
