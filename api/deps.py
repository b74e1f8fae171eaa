"""FastAPI dependencies: the resources built at start-up, a database session, billing."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from core.billing import BillingService
from core.resources import Resources


def get_resources(request: Request) -> Resources:
    resources: Resources | None = getattr(request.app.state, "resources", None)
    if resources is None:
        raise RuntimeError("the API resources are not initialised (app started without lifespan?)")
    return resources


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; services commit their own work, anything left is rolled back."""
    session = get_resources(request).sessions()
    try:
        yield session
    finally:
        session.close()


def get_billing(request: Request) -> BillingService:
    billing: BillingService | None = getattr(request.app.state, "billing", None)
    if billing is None:
        billing = BillingService.from_settings(get_resources(request).settings)
        request.app.state.billing = billing
    return billing
