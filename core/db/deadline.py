"""A client-side deadline on every answer PostgreSQL owes an open connection.

PostgreSQL's own ``statement_timeout`` is enforced by the server: a server that cannot run at all
(frozen by SIGSTOP, a hung host or VM, a stalled storage) cancels nothing, and the kernel still
acknowledges the client's TCP packets, so keepalives and ``tcp_user_timeout`` never fire either.
``connect_timeout`` only bounds new connections. A request that already holds a pooled
connection, or takes one from the pool (``pool_pre_ping`` is a round trip too), then waits on a
socket that never answers, for as long as the server stays frozen (issue 16: requests hung for
the whole freeze).

psycopg routes every wait of a connection (a statement, its rows, COPY, commit, rollback, the
transaction and session settings) through ``Connection.wait``; ``DeadlineConnection`` gives
that wait a timeout. When it expires the connection is closed (its protocol state is unknown
mid-answer) and an ``OperationalError`` raised: SQLAlchemy sees a closed connection, invalidates
it and the pool opens a fresh one next time; the API answers 503 (``api.problems``). The server
rolls the abandoned transaction back when it sees the closed socket.

The deadline must exceed ``statement_timeout``, so that a live server's own cancel (a clean
``QueryCanceled``) always comes first: ``Settings.effective_database_response_timeout``.
"""

from __future__ import annotations

from typing import Any, TypeVar

import psycopg
from psycopg import errors
from psycopg.abc import PQGen
from sqlalchemy import Engine, event

RV = TypeVar("RV")

# psycopg's own polling interval (psycopg.connection._WAIT_INTERVAL): how often a wait wakes up
# to notice Ctrl-C
WAIT_INTERVAL = 0.1


class DatabaseNotAnswering(psycopg.OperationalError):
    """The server did not answer an open connection within the response timeout."""


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait on the server ends after ``response_timeout``."""

    response_timeout: float | None = None

    def wait(
        self, gen: PQGen[RV], interval: float = WAIT_INTERVAL, timeout: float | None = None
    ) -> RV:
        if timeout is None:
            timeout = self.response_timeout
        try:
            return super().wait(gen, interval=interval, timeout=timeout)
        except errors._WaitTimeout as exc:
            # the answer is half read or never came: nothing more can be sent on this connection
            self.close()
            raise DatabaseNotAnswering(
                f"the database did not answer within {timeout:g} s; the connection was closed"
            ) from exc


def install_response_timeout(engine: Engine, seconds: float) -> None:
    """Open ``engine``'s PostgreSQL connections as ``DeadlineConnection``s with this deadline."""

    @event.listens_for(engine, "do_connect")
    def _connect(
        _dialect: Any, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
    ) -> DeadlineConnection:
        connection = DeadlineConnection.connect(*cargs, **cparams)
        connection.response_timeout = seconds
        return connection
