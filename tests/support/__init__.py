"""Helpers the tests share (not fixtures: those are in tests/conftest.py): paths, ports, fakes and mocks."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 (for test servers, or to have nothing answer)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recorded_sleep(cap: float = 2.0) -> tuple[Callable[[float], None], list[float]]:
    """A client's ``sleep``: records every wait asked for and sleeps at most ``cap`` seconds of it (the mocks'
    rate-limit windows are short, so the reset really passes)."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(min(seconds, cap))

    return sleep, waits
