"""Failpoints: named places where a test can make the process die as production would, by SIGKILL.

``SOCIALCX_FAILPOINT=<name>`` makes the process kill itself (signal 9: no cleanup, no atexit, no rollback
code runs) the first time it reaches ``<name>``. Unset, ``hit`` is a dictionary lookup. The crash-recovery tests
(tests/socialcx/test_crash_recovery.py) use them to kill a real run at a chosen moment instead of after a guessed delay:

- ``extract:before_commit``: a source's rows and cursor are written, the transaction is not committed;
- ``enrich:after_chunk``: the first chunk of enrichments is committed, the rest is not done;
- ``enrich:chunk_before_commit``: on PostgreSQL, a mapped chunk's annotations are written, not committed;
- ``dbt:<model>``: dbt finished building ``<model>``, the models after it are not built.
"""

from __future__ import annotations

import os
import signal

ENV = "SOCIALCX_FAILPOINT"


def hit(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def dbt_callback(event) -> None:
    """A dbtRunner callback: ``dbt:<model>`` kills the process once that model's node has finished."""
    target = os.environ.get(ENV, "")
    if target.startswith("dbt:") and event.info.name == "NodeFinished":
        if event.data.node_info.node_name == target[4:]:
            os.kill(os.getpid(), signal.SIGKILL)
