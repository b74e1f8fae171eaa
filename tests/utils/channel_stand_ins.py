"""In-process stand-ins of the notification channels, speaking each one's wire format:
Discord's webhook API and Telegram's Bot API (one HTTP server), and an SMTP mailbox (aiosmtpd)."""

from __future__ import annotations

import json
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.utils.ports import free_port

DISCORD_ID, DISCORD_TOKEN = "112233445566778899", "d1sc0rd-T0ken_abcdefghijklmnopqrstuvwxyz"
TELEGRAM_TOKEN, TELEGRAM_CHAT = "123456789:AAFakeTelegramTokenForTests_0123456", "424242"


def port_in_range() -> int:
    """A free port of this run's test range (TEST_PORTS, see tests/utils/ports.py)."""
    return free_port()


class StandIn:
    """An HTTP server answering like Discord's webhook API and Telegram's Bot API; ``down``
    makes it answer 503 (the service is down)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.down = False
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if stand_in.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:  # Telegram's form-encoded variants
                    body = {"raw": raw.decode()}
                if self.path == f"/api/webhooks/{DISCORD_ID}/{DISCORD_TOKEN}":
                    stand_in.received.append(("discord", body))
                    self.send_response(204)
                    self.end_headers()
                    return
                if self.path == f"/bot{TELEGRAM_TOKEN}/sendMessage":
                    stand_in.received.append(("telegram", body))
                    answer = {"ok": True, "result": {"message_id": len(stand_in.received)}}
                    data = json.dumps(answer).encode()
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port_in_range()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [body for k, body in self.received if k == kind]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def __init__(self) -> None:
        self.messages: list[Any] = []
