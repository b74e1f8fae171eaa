"""The app's client address (its login throttle key, with the username) behind a proxy.

Streamlit serves app/server.py with uvicorn (``uvicorn.Config(app, host, port, ...)``, no proxy
arguments), so uvicorn's proxy headers decide the address Streamlit reports as
``st.context.ip_address``. The launchers give it ``FORWARDED_ALLOW_IPS`` from TRUSTED_PROXIES
(pipelines.cli.streamlit_environment): X-Forwarded-For counts only from a configured proxy,
the API's rule. Without it uvicorn trusted 127.0.0.1 always.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn

from core.settings import load_settings
from pipelines.cli import streamlit_environment


def client_seen(
    monkeypatch: pytest.MonkeyPatch, trusted: list[str], peer: str, forwarded: str
) -> str:
    """The client address the app sees for a request from ``peer`` with X-Forwarded-For."""
    settings = load_settings(environment="test", trusted_proxies=trusted)
    for name, value in streamlit_environment(settings, {}).items():
        monkeypatch.setenv(name, value)
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["client"] = scope["client"]

    config = uvicorn.Config(app, host="127.0.0.1", port=0)  # what Streamlit's runner builds
    config.load()
    scope = {
        "type": "websocket",
        "path": "/_stcore/stream",
        "headers": [(b"x-forwarded-for", forwarded.encode())],
        "client": (peer, 40000),
        "server": ("127.0.0.1", 8501),
        "scheme": "ws",
    }
    asyncio.run(config.loaded_app(scope, None, None))
    return str(seen["client"][0])


def test_forwarded_for_counts_only_from_trusted_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # nginx on loopback, configured as the proxy: the browser's address is the throttle key
    assert client_seen(monkeypatch, ["127.0.0.1"], "127.0.0.1", "203.0.113.9") == "203.0.113.9"
    # a stranger's hops before nginx are not believed: the address nginx saw is taken
    assert (
        client_seen(monkeypatch, ["127.0.0.1"], "127.0.0.1", "198.51.100.1, 203.0.113.9")
        == "203.0.113.9"
    )
    # no proxy configured: the header is ignored, even from loopback
    assert client_seen(monkeypatch, [], "127.0.0.1", "203.0.113.9") == "127.0.0.1"
    # a peer that is not a configured proxy cannot choose its address
    assert client_seen(monkeypatch, ["10.0.0.0/8"], "192.0.2.5", "203.0.113.9") == "192.0.2.5"
    assert client_seen(monkeypatch, ["10.0.0.0/8"], "10.1.2.3", "203.0.113.9") == "203.0.113.9"
