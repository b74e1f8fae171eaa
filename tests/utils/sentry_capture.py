"""A local HTTP endpoint that stands in for Sentry: it stores every envelope it is sent."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SentryCapture:
    """``with SentryCapture() as sentry: ... sentry.dsn ... sentry.events()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.raw: list[bytes] = []
        self._lock = threading.Lock()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                encoding = self.headers.get("content-encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                with capture._lock:
                    capture.raw.append(body)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        self.dsn = f"http://public0123456789@{host}:{self.port}/1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SentryCapture:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def text(self) -> str:
        with self._lock:
            return "\n".join(body.decode("utf-8", "replace") for body in self.raw)

    def events(self) -> list[dict[str, Any]]:
        """The error events (envelope items of type "event") received so far."""
        found = []
        with self._lock:
            bodies = list(self.raw)
        for body in bodies:
            lines = body.split(b"\n")
            # envelope: header line, then (item header, payload) pairs
            index = 1
            while index + 1 < len(lines):
                header = json.loads(lines[index] or b"{}")
                payload = lines[index + 1]
                if header.get("type") == "event":
                    found.append(json.loads(payload))
                index += 2
        return found
