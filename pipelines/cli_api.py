"""`faceit-ai api`: serve the JSON API (api.main:create_app) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer


def api(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
) -> None:
    """Serve the JSON API (auth, analyses, Stripe webhook, health)."""
    import uvicorn

    # X-Forwarded-* are honoured by the app itself, from TRUSTED_PROXIES only (uvicorn's own
    # proxy_headers would trust 127.0.0.1 always)
    uvicorn.run("api.main:create_app", host=host, port=port, factory=True, proxy_headers=False)
