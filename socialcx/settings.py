"""Settings read from the environment.

Every setting has a ``SOCIALCX_`` variable; ``.env.example`` lists them all with their defaults.
Paths are resolved against the project root so that the CLI, Airflow tasks and tests agree on
where the warehouse lives whatever their working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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


def _list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


@dataclass(frozen=True)
class Settings:
    warehouse: Path = field(default_factory=lambda: _path("SOCIALCX_WAREHOUSE", "warehouse/socialcx.duckdb"))
    publish_dir: Path = field(default_factory=lambda: _path("SOCIALCX_PUBLISH_DIR", "warehouse/published"))
    reports_dir: Path = field(default_factory=lambda: _path("SOCIALCX_REPORTS_DIR", "reports"))
    sources: list[str] = field(default_factory=lambda: _list("SOCIALCX_SOURCES", "sample"))
    sample_posts: int = field(default_factory=lambda: _int("SOCIALCX_SAMPLE_POSTS", 20_000))
    sample_seed: int = field(default_factory=lambda: _int("SOCIALCX_SAMPLE_SEED", 42))
    sample_end_date: str = field(default_factory=lambda: os.environ.get("SOCIALCX_SAMPLE_END_DATE", "2026-10-31"))
    file_drop: Path = field(default_factory=lambda: _path("SOCIALCX_FILE_DROP", "data/drop"))
    dbt_project_dir: Path = field(default_factory=lambda: _path("SOCIALCX_DBT_PROJECT_DIR", "dbt_project"))
    nlp_model: str = field(default_factory=lambda: os.environ.get("SOCIALCX_NLP_MODEL", "default"))
    nlp_batch_size: int = field(default_factory=lambda: _int("SOCIALCX_NLP_BATCH_SIZE", 2_000))
    nlp_chunk_size: int = field(default_factory=lambda: _int("SOCIALCX_NLP_CHUNK_SIZE", 50_000))
    nlp_processes: int = field(default_factory=lambda: _int("SOCIALCX_NLP_PROCESSES", min(2, os.cpu_count() or 1)))
    lock_retries: int = field(default_factory=lambda: _int("SOCIALCX_LOCK_RETRIES", 10))
    schedule: str = field(default_factory=lambda: os.environ.get("SOCIALCX_SCHEDULE", "@hourly"))
    x_base_url: str = field(default_factory=lambda: os.environ.get("SOCIALCX_X_BASE_URL", "https://api.x.com"))
    x_brands: list[str] = field(default_factory=lambda: _list("SOCIALCX_X_BRANDS", ""))
    crm_location: str = field(default_factory=lambda: os.environ.get("SOCIALCX_CRM", ""))
    earliest_post_date: str = field(default_factory=lambda: _date("SOCIALCX_EARLIEST_POST_DATE", "2006-01-01"))
    raw_text_retention_days: int = field(default_factory=lambda: _int("SOCIALCX_RAW_TEXT_RETENTION_DAYS", 90))
    alert_spike_days: int = field(default_factory=lambda: _int("SOCIALCX_ALERT_SPIKE_DAYS", 3))
    alert_window_hours: int = field(default_factory=lambda: _int("SOCIALCX_ALERT_WINDOW_HOURS", 72))
    alert_email_to: list[str] = field(default_factory=lambda: _list("SOCIALCX_ALERT_EMAIL_TO", ""))
    alert_email_from: str = field(default_factory=lambda: os.environ.get("SOCIALCX_ALERT_EMAIL_FROM",
                                                                          "socialcx@localhost"))

    @property
    def published_warehouse(self) -> Path:
        return self.publish_dir / "socialcx.duckdb"


def get_settings() -> Settings:
    """Read the settings afresh, so a changed environment (tests, CLI options) is honoured."""
    return Settings()
