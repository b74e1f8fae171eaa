"""Database: schema, engines and sessions, migrations.

Who commits a transaction
-------------------------
The code that defines a unit of work commits it; everything it calls works inside it.

1. **Service operations commit.** A public function of ``core.auth``, ``core.billing`` or
   ``core.ingest`` that is one action a user or operator asks for (register, log in, record a
   logout, set a role, grant premium from a Stripe event, store one batch of matches, move a
   watermark) is one unit of work: it commits on success and rolls back on failure. Given a
   ``Session``, it commits that session (core.auth, core.billing: a failed login must be
   recorded even though the call then raises, and a lost race is rolled back and re-read inside
   the service). Given a ``sessionmaker``, it opens ``transaction(sessions)`` itself
   (core.ingest). Its docstring says what it commits.
2. **Helpers never commit.** Queries (``core.crud``), bulk writes (``core.store``), the model
   registry's ``register``/``promote`` and ``core.auth.audit`` write inside the caller's
   transaction (``flush()`` at most), so several of them make one all-or-nothing unit.
3. **Front doors never call commit() or rollback().** Pages, routes, flows and commands call a
   service operation, or, to make one unit of several helpers, open
   ``with transaction(sessions) as session:`` (``sessionmaker.begin()`` is the same thing).
   Reads open ``with sessions() as session:`` and commit nothing; the API's request session
   (``api.deps.get_session``) is closed after the request, so anything uncommitted is rolled
   back.
"""

from core.db.engine import make_engine, make_session_factory, transaction

__all__ = ["make_engine", "make_session_factory", "transaction"]
