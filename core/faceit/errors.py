"""Errors raised by the FACEIT client. None of them ever contains the API key."""

from __future__ import annotations


class FaceitError(Exception):
    """Base of every error raised by core.faceit."""


class NotFound(FaceitError):
    """HTTP 404: unknown player id, nickname (nicknames are case-sensitive) or match id."""

    def __init__(self, endpoint: str, message: str = "") -> None:
        self.endpoint = endpoint
        detail = f": {message}" if message else ""
        super().__init__(f"FACEIT has no such resource ({endpoint}){detail}")


class PlayerNotFound(NotFound):
    """HTTP 404 on a /players endpoint."""


class Unauthorized(FaceitError):
    """HTTP 401/403: the API key is missing, revoked or wrong (or the request was refused)."""

    def __init__(self, endpoint: str, status: int) -> None:
        self.endpoint = endpoint
        self.status = status
        hint = (
            " (a 403 can also mean FACEIT's edge refused the User-Agent)" if status == 403 else ""
        )
        super().__init__(
            f"FACEIT refused the request to {endpoint} with HTTP {status}: the API key is missing, "
            f"revoked or wrong; set FACEIT_API_KEY to a valid server-side key{hint}"
        )


class BadRequest(FaceitError):
    """Any other 4xx: the request itself is wrong; retrying would not help."""

    def __init__(self, endpoint: str, status: int, message: str = "") -> None:
        self.endpoint = endpoint
        self.status = status
        detail = f": {message}" if message else ""
        super().__init__(f"FACEIT rejected {endpoint} with HTTP {status}{detail}")


class FaceitUnavailable(FaceitError):
    """The API kept failing (5xx, 429, timeouts, connection errors) until retries ran out."""

    def __init__(
        self, endpoint: str, attempts: int, last_error: str, last_status: int | None = None
    ) -> None:
        self.endpoint = endpoint
        self.attempts = attempts
        self.last_error = last_error
        self.last_status = last_status
        super().__init__(
            f"FACEIT API unavailable: {endpoint} failed {attempts} time(s); "
            f"last error: {last_error}"
        )


class InvalidPayload(FaceitError):
    """A 2xx body that is not JSON, is truncated, or does not match the expected schema.

    Carries the raw text and the error so the caller can quarantine the payload.
    """

    def __init__(self, endpoint: str, raw_text: str, error: str) -> None:
        self.endpoint = endpoint
        self.raw_text = raw_text
        self.error = error
        super().__init__(f"invalid payload from {endpoint}: {error[:500]}")


class InvalidNickname(FaceitError, ValueError):
    """A nickname (or search prefix) that cannot be a FACEIT nickname; nothing was sent."""


class InvalidIdentifier(FaceitError, ValueError):
    """A player or match id with characters that cannot be in a FACEIT id; nothing was sent."""


class RetryableError(FaceitError):
    """Internal: a transient HTTP status (429, 5xx) that the client retries."""

    def __init__(self, endpoint: str, status: int, retry_after: float | None = None) -> None:
        self.endpoint = endpoint
        self.status = status
        self.retry_after = retry_after
        after = f", retry after {retry_after:g}s" if retry_after is not None else ""
        super().__init__(f"HTTP {status} from {endpoint}{after}")
