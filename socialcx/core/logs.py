"""Log hygiene: no secret and no raw PII in what socialcx writes to its logs or prints as an error.

Our own log calls carry counts and ids, never post text. This filter is the safety net for everything else
that ends up in a log line: DuckDB or dbt errors quoting a value, an HTTP error quoting a URL with a token.
It masks

- the values of secret-looking environment variables (names with TOKEN, PASSWORD, SECRET, API_KEY, WEBHOOK,
  or an Airflow connection's URI), and
- e-mail addresses, payment card numbers and phone numbers, with the NLP redaction's own patterns.

Inside Airflow, secrets read from connections are also registered with Airflow's masker (``mask_secret``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

from socialcx.core.pii import CARD, EMAIL, PHONE

SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|API_KEY|WEBHOOK|^AIRFLOW_CONN_", re.IGNORECASE)
MASK = "***"


_REGISTERED: set[str] = set()  # secrets read from elsewhere (Airflow connections) in this process


def register_secret(secret: str) -> None:
    """Mask a secret that is not in the environment (an Airflow connection's password) in our logs and error
    messages, and in Airflow's task logs."""
    if secret and len(secret) >= 6:
        _REGISTERED.add(secret)
    register_with_airflow(secret)


def secret_values() -> list[str]:
    values = {v for k, v in os.environ.items() if SECRET_NAME.search(k) and len(v) >= 6} | _REGISTERED
    return sorted(values, key=len, reverse=True)  # longest first: a token inside a URL goes with the URL


def scrub(text: str) -> str:
    for value in secret_values():
        text = text.replace(value, MASK)
    text = EMAIL.sub("[email]", text)
    text = CARD.sub("[card]", text)
    return PHONE.sub("[phone]", text)


class ScrubFilter(logging.Filter):
    """A handler filter: the formatted message (and exception text) of every record, scrubbed."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install(handler: logging.Handler | None = None) -> None:
    """Scrub every record the given handler (default: each of the root logger's) emits."""
    for each in [handler] if handler else logging.getLogger().handlers:
        if not any(isinstance(f, ScrubFilter) for f in each.filters):
            each.addFilter(ScrubFilter())


class ScrubbedError(RuntimeError):
    """An error whose message was scrubbed; the original (which may quote a secret or an e-mail) is dropped."""


@contextmanager
def task_hygiene() -> Iterator[None]:
    """Around every Airflow task: scrub our log records, register the environment's secrets with Airflow's
    masker (it masks the task log, tracebacks included), and let no error leave with an unscrubbed message."""
    install()
    for value in secret_values():
        register_with_airflow(value)
    try:
        yield
    except Exception as exc:
        raise ScrubbedError(f"{exc.__class__.__name__}: {scrub(str(exc))}") from None


def register_with_airflow(secret: str) -> None:
    """Mask a secret in Airflow's task logs too (a no-op outside Airflow)."""
    if not secret:
        return
    try:
        from airflow.sdk.log import mask_secret

        mask_secret(secret)
    except Exception:  # no Airflow here: our own filter still masks it
        pass
