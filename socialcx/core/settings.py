"""Settings read from the environment.

Every setting has a ``SOCIALCX_`` variable; ``.env.example`` lists them all with their defaults. A source's
own settings are declared once, in its registry entry (``socialcx/core/sources.py``).
Paths are resolved against the project root so that the CLI, Airflow tasks and tests agree on
where the warehouse lives whatever their working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from socialcx.core import sources

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _path(name: str, default: str) -> Path:
    value = Path(os.environ.get(name, default))
    return value if value.is_absolute() else PROJECT_ROOT / value


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a whole number; set it to e.g. {default}") from exc


def _date(name: str, default: str) -> str:
    from datetime import date

    raw = os.environ.get(name, default)
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a date; set it as YYYY-MM-DD, e.g. {default}") from exc


TARGETS = ("duckdb", "postgres")


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(choices)}; set it to one of them")
    return value


def _list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _str(name: str, default: str) -> str:
    return os.environ.get(name, default)


READERS = {"str": _str, "int": _int, "list": _list, "date": _date,
           "path": lambda name, default: _path(name, default) if os.environ.get(name, default) else None}


def _source_options() -> dict[str, dict[str, object]]:
    return {source.name: {option.name: READERS[option.kind](source.env(option), option.default)
                          for option in source.options if not option.secret}
            for source in sources.registry().values()}


@dataclass(frozen=True)
class Settings:
    warehouse: Path = field(default_factory=lambda: _path("SOCIALCX_WAREHOUSE", "warehouse/socialcx.duckdb"))
    # where dbt builds the models: duckdb (the warehouse file above) or postgres (SOCIALCX_POSTGRES_URL, or the
    # Airflow connection socialcx_warehouse; socialcx/core/postgres.py)
    target: str = field(default_factory=lambda: _choice("SOCIALCX_TARGET", "duckdb", TARGETS))
    # PostgreSQL: the read-only role granted the published schema (BI logs in as a role granted this one)
    bi_role: str = field(default_factory=lambda: _str("SOCIALCX_BI_ROLE", "socialcx_bi"))
    publish_dir: Path = field(default_factory=lambda: _path("SOCIALCX_PUBLISH_DIR", "warehouse/published"))
    reports_dir: Path = field(default_factory=lambda: _path("SOCIALCX_REPORTS_DIR", "reports"))
    sources: list[str] = field(default_factory=lambda: _list("SOCIALCX_SOURCES", "sample"))
    # each registered source's options (socialcx/core/sources.py), by source and option name
    source_options: dict[str, dict[str, object]] = field(default_factory=lambda: _source_options())
    dbt_project_dir: Path = field(default_factory=lambda: _path("SOCIALCX_DBT_PROJECT_DIR", "dbt_project"))
    nlp_model: str = field(default_factory=lambda: os.environ.get("SOCIALCX_NLP_MODEL", "default"))
    nlp_batch_size: int = field(default_factory=lambda: _int("SOCIALCX_NLP_BATCH_SIZE", 2_000))
    nlp_chunk_size: int = field(default_factory=lambda: _int("SOCIALCX_NLP_CHUNK_SIZE", 50_000))
    nlp_processes: int = field(default_factory=lambda: _int("SOCIALCX_NLP_PROCESSES", min(2, os.cpu_count() or 1)))
    lock_retries: int = field(default_factory=lambda: _int("SOCIALCX_LOCK_RETRIES", 10))
    schedule: str = field(default_factory=lambda: os.environ.get("SOCIALCX_SCHEDULE", "*/5 * * * *"))
    # every run validates what changed; every suite on every row when the last full validation is older
    full_validation_hours: int = field(default_factory=lambda: _int("SOCIALCX_FULL_VALIDATION_HOURS", 24))
    earliest_post_date: str = field(default_factory=lambda: _date("SOCIALCX_EARLIEST_POST_DATE", "2006-01-01"))
    raw_text_retention_days: int = field(default_factory=lambda: _int("SOCIALCX_RAW_TEXT_RETENTION_DAYS", 90))
    alert_spike_days: int = field(default_factory=lambda: _int("SOCIALCX_ALERT_SPIKE_DAYS", 3))
    alert_window_hours: int = field(default_factory=lambda: _int("SOCIALCX_ALERT_WINDOW_HOURS", 72))
    alert_email_to: list[str] = field(default_factory=lambda: _list("SOCIALCX_ALERT_EMAIL_TO", ""))
    alert_email_from: str = field(default_factory=lambda: os.environ.get("SOCIALCX_ALERT_EMAIL_FROM",
                                                                          "socialcx@localhost"))

    def source(self, name: str) -> dict[str, object]:
        """The options of one source as the environment sets them (defaults from the registry)."""
        if name not in self.source_options:
            sources.get(name)  # raises, naming the known sources
        return dict(self.source_options[name])

    @property
    def published_warehouse(self) -> Path:
        return self.publish_dir / "socialcx.duckdb"


def get_settings() -> Settings:
    """Read the settings afresh, so a changed environment (tests, CLI options) is honoured."""
    return Settings()


def dbt_env(settings: Settings, *, connection: bool = True) -> dict[str, str]:
    """Environment for dbt: the target, the warehouse as an absolute path (and, with ``connection``, PostgreSQL's
    parts for profiles.yml; the DAG passes none: cosmos maps the Airflow connection when a task runs), no usage
    statistics. Here, not beside the dbt runner: the DAG file reads it as it is parsed, in every task's process,
    and the runner's package imports DuckDB and every stage (0.2 s of each model task's process)."""
    env = {"SOCIALCX_TARGET": settings.target, "SOCIALCX_WAREHOUSE": str(settings.warehouse),
           # the daily run that validates every row also sweeps every row for rows gone (macro sweep_due)
           "SOCIALCX_FULL_VALIDATION_HOURS": str(settings.full_validation_hours),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    if settings.target == "postgres" and connection:
        from socialcx.core.postgres import configured_url

        env.update(configured_url().env())
    return env
