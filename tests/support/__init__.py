"""Helpers the tests share (not fixtures: those are in tests/conftest.py): paths, ports, fakes and mocks."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 (for test servers, or to have nothing answer)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
