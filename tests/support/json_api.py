"""The HTTP side of the JSON API mocks: a server on 127.0.0.1 answering every GET and POST with what the mock's
``_answer(verb, path, authorization, body)`` returns, as ``(status, JSON body, headers)``."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonApiServer:
    def _answer(self, verb: str, raw_path: str, authorization: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def __enter__(self):  # noqa: ANN204  (returns the mock itself)
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                status, answer, headers = mock._answer(self.command, self.path, self.headers.get("Authorization", ""),
                                                       body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _reply  # noqa: N815
            do_POST = _reply  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"
