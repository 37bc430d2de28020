"""Debian's redis-server on a loopback port, for the Celery test and benchmark; and stopping a process group."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

from tests.support import ROOT


def redis_binary(purpose: str) -> str:
    """redis-server, installed from Debian's packages first if it is missing (``purpose`` says who asked)."""
    found = shutil.which("redis-server")
    if not found:
        subprocess.run(["bash", str(ROOT / "scripts" / "apt_install.sh"), purpose, "redis-server"], check=True,
                       capture_output=True)
        found = shutil.which("redis-server") or "/usr/bin/redis-server"
    return found


def redis_command(port: int, purpose: str) -> list[str]:
    """A throw-away redis-server on 127.0.0.1:``port`` that keeps nothing on disk."""
    return [redis_binary(purpose), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM to a process started in its own session and all its children; SIGKILL after ``timeout``."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


