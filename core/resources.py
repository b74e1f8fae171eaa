"""The composition root: what the front doors need, built once per process from settings.

``Resources`` is the one place that knows which backend each part uses: the database (SQLite or
PostgreSQL: ``engine`` and ``sessions``), the feature cache (Redis or in-process), the FACEIT
source (the real Data API or the demo league: ``faceit_client()``) and billing (Stripe, or
the demo checkout). Everything else receives these, never builds its own.

Who builds it: the Streamlit app keeps one per process (``app.resources``, in
``st.cache_resource``); the API one per application (``api.main.create_app``, in its lifespan);
the CLI one per command and every Prefect flow run one per run (``with Resources.open() as r:``).
Tests and notebooks build their own, from settings or from an engine they already hold.

The promoted models' caches live in ``models`` (which core does not import); they are kept per
process on the Resources with ``cached`` (see ``models.analysis.analysis_models``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.auth import LiveSessions
from core.billing import BillingService
from core.cache import FeatureCache
from core.db.engine import make_engine, make_session_factory
from core.faceit import FaceitClient
from core.settings import Settings, get_settings
from core.sources import make_faceit_client

T = TypeVar("T")


class Resources:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        cache: FeatureCache,
        billing: BillingService | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_session_factory(engine)
        self.cache = cache
        self.billing = billing if billing is not None else BillingService.from_settings(settings)
        # the demo checkout's signed webhooks are handled in-process, on this database
        self.billing.deliver_demo_webhooks(self.sessions)
        self._cached: dict[str, Any] = {}
        self._lock = threading.Lock()
        # with Redis, the revocation check of a token reads users' session generations there
        self.live_sessions: LiveSessions | None = None
        if cache.backend == "redis":
            self.live_sessions = LiveSessions(cache)
            self.live_sessions.install(self.sessions)

    @classmethod
    def from_settings(cls, settings: Settings) -> Resources:
        return cls(
            settings=settings,
            engine=make_engine(
                settings.effective_database_url,
                connect_timeout=settings.database_connect_timeout_seconds,
                statement_timeout=settings.database_statement_timeout_seconds,
                pool_timeout=settings.database_pool_timeout_seconds,
                response_timeout=settings.effective_database_response_timeout,
            ),
            cache=FeatureCache(
                settings.redis_url,
                ttl_seconds=settings.cache_ttl_seconds,
                socket_timeout=settings.redis_socket_timeout_seconds,
                connect_timeout=settings.redis_connect_timeout_seconds,
            ),
        )

    @classmethod
    def open(cls, settings: Settings | None = None) -> Resources:
        """Resources of ``settings`` (default: this process's settings), to use in a ``with``."""
        return cls.from_settings(settings or get_settings())

    def faceit_client(self, **options: Any) -> FaceitClient:
        """A FACEIT client on this process's source (an async context manager: one per event
        loop, so each ingest run opens its own; the demo league behind it is generated once)."""
        return make_faceit_client(self.settings, **options)

    def cached(self, name: str, build: Callable[[], T]) -> T:
        """The value kept under ``name`` on these resources, built by ``build`` on first use
        (once, even when several threads ask at the same moment)."""
        with self._lock:
            if name not in self._cached:
                self._cached[name] = build()
            value: T = self._cached[name]
            return value

    def describe_database(self) -> str:
        """Which database is in use, without credentials."""
        url = make_url(self.settings.effective_database_url)
        if url.get_backend_name() == "sqlite":
            return f"SQLite ({url.database})"
        return f"PostgreSQL ({url.host or 'local socket'}/{url.database})"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Resources:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
