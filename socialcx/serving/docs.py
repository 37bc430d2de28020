"""`make docs`: dbt docs (lineage, every model and KPI definition), the GX Data Docs and the KPI report, served
together on 127.0.0.1.

dbt's docs are generated with ``--static``: one self-contained page (manifest and catalog inside) that also
opens straight from disk. Everything lives under the reports folder; a small index page links the three.
"""

from __future__ import annotations

import functools
import shutil
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from socialcx.core.settings import Settings

INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>socialcx docs</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;margin:40px auto;max-width:720px;color:#1f2933}}
li{{margin:10px 0}}span{{color:#616e7c;font-size:13px}}</style></head>
<body><h1>socialcx</h1><ul>
<li><a href="latest/index.html">KPI report</a> <span>{report}</span></li>
<li><a href="dbt_docs/index.html">dbt docs: models, columns, KPI definitions, lineage</a></li>
<li><a href="data_docs/index.html">Great Expectations Data Docs: validation results</a> <span>{gx}</span></li>
</ul></body></html>
"""


def _state(path: Path, missing: str) -> str:
    return "" if path.exists() else f"(not built yet: {missing})"


def write_site(settings: Settings) -> dict[str, str]:
    """Copy dbt's static docs (``dbt docs generate --static``, run by the docs stage) into reports/dbt_docs and
    write the index page linking all three sites."""
    target = settings.reports_dir / "dbt_docs"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settings.dbt_project_dir / "target" / "static_index.html", target / "index.html")
    reports = settings.reports_dir
    (reports / "index.html").write_text(INDEX.format(
        report=_state(reports / "latest" / "index.html", "run `make run` or `socialcx report`"),
        gx=_state(reports / "data_docs" / "index.html", "run `socialcx validate`"),
    ))
    return {"index": str(reports / "index.html"), "dbt_docs": str(target / "index.html"),
            "data_docs": str(reports / "data_docs" / "index.html"), "report": str(reports / "latest" / "index.html")}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's signature
        pass


def make_server(directory: Path, port: int, *, quiet: bool = False) -> ThreadingHTTPServer:
    """An HTTP server for ``directory`` on 127.0.0.1 only (port 0 picks a free one)."""
    handler = functools.partial(_QuietHandler if quiet else SimpleHTTPRequestHandler, directory=str(directory))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)
