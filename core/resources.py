"""Resources built once from settings and passed in.

The one place that knows which backend (database, cache, FACEIT source) is in use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.cache import FeatureCache
from core.db.engine import make_engine, make_session_factory
from core.settings import Settings


@dataclass
class Resources:
    settings: Settings
    engine: Engine
    cache: FeatureCache
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = make_session_factory(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> Resources:
        return cls(
            settings=settings,
            engine=make_engine(
                settings.effective_database_url,
                connect_timeout=settings.database_connect_timeout_seconds,
                statement_timeout=settings.database_statement_timeout_seconds,
                pool_timeout=settings.database_pool_timeout_seconds,
            ),
            cache=FeatureCache(
                settings.redis_url,
                ttl_seconds=settings.cache_ttl_seconds,
                socket_timeout=settings.redis_socket_timeout_seconds,
                connect_timeout=settings.redis_connect_timeout_seconds,
            ),
        )

    def describe_database(self) -> str:
        """Which database is in use, without credentials."""
        url = make_url(self.settings.effective_database_url)
        if url.get_backend_name() == "sqlite":
            return f"SQLite ({url.database})"
        return f"PostgreSQL ({url.host or 'local socket'}/{url.database})"

    def close(self) -> None:
        self.engine.dispose()
