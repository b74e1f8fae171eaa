"""Database: schema, engines and sessions, migrations."""

from core.db.engine import make_engine, make_session_factory, transaction

__all__ = ["make_engine", "make_session_factory", "transaction"]
