"""Async client of the FACEIT Data API v4 (CS2), built on httpx.

    async with FaceitClient(api_key=key) as faceit:
        player = await faceit.get_player_by_nickname("Darwin")
        async for page in faceit.iter_history(player.player_id, since=watermark):
            ...

Behaviour:
- bearer auth, honest User-Agent, JSON only; nothing connects before the first request;
- at most `max_concurrency` requests in flight, a client-side limiter of `rate_limit` requests/s
  (aiolimiter, burst `burst`, default 2: requests go out evenly spaced instead of in bursts that
  empty the server's bucket), a client-wide pause on 429 Retry-After and when the
  ratelimit-remaining header reaches 0 (until ratelimit-reset);
- with `shared_limit_url` (a Redis URL) the `rate_limit` is one budget for every process holding
  the same API key (core.faceit.ratelimit.SharedRateLimiter), not one per client;
- retries (tenacity, exponential backoff with jitter) on 429, 5xx, timeouts and connection errors,
  `max_retries` attempts in total, then FaceitUnavailable;
- 401/403 -> Unauthorized, 404 -> NotFound / PlayerNotFound, other 4xx -> BadRequest (no retry);
- a 2xx body that is not valid JSON or not the expected shape -> InvalidPayload(raw text, error).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from aiolimiter import AsyncLimiter
from pydantic import BaseModel, SecretStr, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from core.faceit.errors import (
    BadRequest,
    FaceitUnavailable,
    InvalidIdentifier,
    InvalidNickname,
    InvalidPayload,
    NotFound,
    PlayerNotFound,
    RetryableError,
    Unauthorized,
)
from core.faceit.ratelimit import RateLimiter, SharedRateLimiter, budget_key
from core.faceit.schemas import (
    ErrorBody,
    GameStatsPage,
    HistoryMatch,
    HistoryPage,
    MatchDetails,
    MatchStats,
    PlayerLifetimeStats,
    PlayerProfile,
    SearchPage,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://open.faceit.com/data/v4"
DEFAULT_USER_AGENT = "faceit-ai/0.1 (+analytics)"
GAME = "cs2"
MAX_LIMIT = 100
HISTORY_MAX_OFFSET = 1000
NICKNAME_MAX_LENGTH = 64
DEFAULT_BURST = 2.0
MIN_CONCURRENCY = 8
ROUND_TRIP_SECONDS = 0.25
"""How long a request may stay in flight (latency and both ends' work) while the client still
holds its rate limit with the default max_concurrency."""

# Letters (any script), digits, '-', '_' and '.'; FACEIT itself allows 3-12 of [A-Za-z0-9_-], we are
# more tolerant on length and script but refuse anything that could be markup, quoting or a path.
_NICKNAME_RE = re.compile(r"^[\w.\-]+$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")

M = TypeVar("M", bound=BaseModel)
OnRequest = Callable[[int], Awaitable[None] | None]


def validate_nickname(nickname: str, *, what: str = "nickname") -> str:
    """The nickname, stripped, or InvalidNickname saying what is wrong with it."""
    if not isinstance(nickname, str):
        raise InvalidNickname(f"{what} must be a string, got {type(nickname).__name__}")
    value = nickname.strip()
    if not value:
        raise InvalidNickname(f"{what} is empty")
    if len(value) > NICKNAME_MAX_LENGTH:
        raise InvalidNickname(
            f"{what} is {len(value)} characters long; FACEIT nicknames have at most "
            f"{NICKNAME_MAX_LENGTH} (usually 3-12)"
        )
    if not _NICKNAME_RE.match(value):
        raise InvalidNickname(
            f"{what} {value[:NICKNAME_MAX_LENGTH]!r} contains characters a FACEIT nickname cannot "
            "have (only letters, digits, '-', '_' and '.'; no spaces, quotes, ';', '<' or '>')"
        )
    return value


def validate_id(value: str, *, what: str = "id") -> str:
    """A player or match id safe to put in a URL path, or InvalidIdentifier."""
    if not isinstance(value, str) or not _ID_RE.match(value.strip()):
        shown = value[:80] if isinstance(value, str) else type(value).__name__
        raise InvalidIdentifier(
            f"{what} {shown!r} is not a FACEIT id (letters, digits, '-' and '_', up to 128)"
        )
    return value.strip()


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _unix(moment: datetime) -> int:
    return int(_as_utc(moment).timestamp())


def _header_number(value: str | None) -> float | None:
    """First number of a header such as "9", "9, 10;w=1" or "1.5"."""
    if not value:
        return None
    found = _NUMBER_RE.search(value)
    return float(found.group()) if found else None


def _parse_retry_after(value: str | None) -> float | None:
    """Retry-After as delay seconds (or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (_as_utc(when) - datetime.now(UTC)).total_seconds())


def _match_moment(match: HistoryMatch) -> datetime | None:
    return match.finished_at or match.started_at


class FaceitClient:
    """Async FACEIT Data API v4 client. Use as `async with FaceitClient(...) as client`.

    Args:
        api_key: server-side FACEIT API key (str or SecretStr); None sends no Authorization header
            (only useful against the demo league or a mock).
        base_url: API root, default the real v4 API.
        rate_limit: requests per second allowed by the client-side limiter (default 10).
        burst: requests that may go out at once before the limiter spaces them (default
            DEFAULT_BURST, or rate_limit when lower, at least 1). A burst as large as the server's
            bucket empties it at once: the client then stalls on ratelimit-remaining 0 and
            collects 429s; a small burst keeps the rate steady.
        max_concurrency: requests in flight at most (default :func:`default_concurrency` of
            the rate limit: enough requests in flight to hold it at a 250 ms round trip).
        timeout: seconds per request (connect/read/write/pool), default 10.
        max_retries: total ATTEMPTS per request, including the first (default 5; 1 = no retry).
        backoff_initial / backoff_max: exponential backoff (with jitter) between attempts, seconds.
        max_retry_after: cap on a server-requested pause (Retry-After / ratelimit-reset), seconds.
        transport: an httpx async transport (MockTransport, ASGITransport...) instead of network.
        user_agent: sent as User-Agent (FACEIT's edge refuses browser-like ones).
        on_request: called with the HTTP status of every response (0 = timeout / connection error);
            may be a coroutine function.
        shared_limit_url: a Redis URL; the `rate_limit` is then shared (through Redis) by every
            client of the same API key and base URL, in any process (several workers).
    """

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        base_url: str = DEFAULT_BASE_URL,
        rate_limit: float = 10.0,
        burst: float | None = None,
        max_concurrency: int | None = None,
        timeout: float = 10.0,
        max_retries: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        on_request: OnRequest | None = None,
        shared_limit_url: str | None = None,
    ) -> None:
        if rate_limit <= 0:
            raise ValueError("rate_limit must be > 0 requests per second")
        if max_concurrency is None:
            max_concurrency = default_concurrency(rate_limit)
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        if max_retries < 1:
            raise ValueError("max_retries (total attempts) must be >= 1")
        if burst is None:
            burst = max(1.0, min(DEFAULT_BURST, float(rate_limit)))
        burst = float(burst)
        if burst < 1:
            raise ValueError("burst must be >= 1")

        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        headers = {"Accept": "application/json", "User-Agent": user_agent}
        if key:
            headers["Authorization"] = f"Bearer {key}"

        self.base_url = base_url.rstrip("/")
        self.rate_limit = float(rate_limit)
        self.burst = burst
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.on_request = on_request

        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._limiter: RateLimiter = AsyncLimiter(
            max_rate=burst, time_period=burst / self.rate_limit
        )
        self._shared_limiter: SharedRateLimiter | None = None
        if shared_limit_url:
            self._shared_limiter = SharedRateLimiter(
                shared_limit_url, budget_key(key, self.base_url), rate=self.rate_limit, burst=burst
            )
            self._limiter = self._shared_limiter
        self._paused_until = 0.0  # time.monotonic() before which no request is sent

        self.request_count = 0
        """HTTP requests sent (every attempt counts)."""
        self.status_counts: Counter[int] = Counter()
        """Responses by HTTP status; 0 counts timeouts and connection errors."""
        self.retry_count = 0
        """Attempts that were retried."""

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._shared_limiter is not None:
            await self._shared_limiter.aclose()

    def __repr__(self) -> str:  # never shows the key
        return f"FaceitClient(base_url={self.base_url!r}, rate_limit={self.rate_limit:g}/s)"

    # -- public endpoints --------------------------------------------------------------------------

    async def get_player_by_nickname(self, nickname: str) -> PlayerProfile:
        """GET /players?nickname=NAME (case-sensitive). PlayerNotFound when unknown."""
        name = validate_nickname(nickname)
        return await self._get("players", PlayerProfile, {"nickname": name}, player=True)

    async def get_player(self, player_id: str) -> PlayerProfile:
        pid = validate_id(player_id, what="player_id")
        return await self._get(f"players/{quote(pid, safe='')}", PlayerProfile, player=True)

    async def get_player_stats(self, player_id: str) -> PlayerLifetimeStats:
        """GET /players/{id}/stats/cs2: lifetime and per-map segments."""
        pid = validate_id(player_id, what="player_id")
        path = f"players/{quote(pid, safe='')}/stats/{GAME}"
        return await self._get(path, PlayerLifetimeStats, player=True)

    async def get_history(
        self,
        player_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
        limit: int = MAX_LIMIT,
    ) -> HistoryPage:
        """One page of GET /players/{id}/history?game=cs2, newest first.

        `since`/`until` become the API's `from`/`to` (Unix seconds). `from` is always sent (0 when
        since is None), because the API otherwise defaults to the last month only.
        """
        pid = validate_id(player_id, what="player_id")
        _check_page(offset, limit, max_offset=HISTORY_MAX_OFFSET)
        params: dict[str, Any] = {
            "game": GAME,
            "from": _unix(since) if since is not None else 0,
            "offset": offset,
            "limit": limit,
        }
        if until is not None:
            params["to"] = _unix(until)
        path = f"players/{quote(pid, safe='')}/history"
        return await self._get(path, HistoryPage, params, player=True)

    async def iter_history(
        self,
        player_id: str,
        since: datetime | None = None,
        *,
        page_size: int = MAX_LIMIT,
        on_invalid: Callable[[InvalidPayload], object] | None = None,
        invalid_attempts: int = 1,
    ) -> AsyncIterator[HistoryPage]:
        """Walk a player's whole CS2 history newest-first, page by page.

        Pages by offset inside a time window; before the offset cap (1000) it opens a new window
        ending at the oldest match seen (`to` = its finished_at + 1 s, so no same-second match is
        lost whichever way the API treats the bound) and drops matches already yielded, so every
        match comes out exactly once. Stops at `since` (the sync watermark, inclusive: matches that
        finished at or after `since` are yielded). Empty pages are not yielded. A page whose
        payload is invalid is passed to `on_invalid` and asked again, `invalid_attempts` times in
        all, so one bad page costs one more request, not the whole walk again.
        """
        if not 1 <= page_size <= MAX_LIMIT:
            raise ValueError(f"page_size must be between 1 and {MAX_LIMIT}")
        since_utc = _as_utc(since) if since is not None else None
        seen: set[str] = set()
        until: datetime | None = None
        offset = 0
        oldest: datetime | None = None
        windows = 0
        while True:
            for attempt in range(1, invalid_attempts + 1):
                try:
                    page = await self.get_history(
                        player_id, since=since_utc, until=until, offset=offset, limit=page_size
                    )
                    break
                except InvalidPayload as bad:
                    if on_invalid is not None:
                        on_invalid(bad)
                    if attempt == invalid_attempts:
                        raise
            fresh: list[HistoryMatch] = []
            reached_since = False
            for match in page.items:
                moment = _match_moment(match)
                if since_utc is not None and moment is not None and moment < since_utc:
                    reached_since = True
                    continue
                if moment is not None and (oldest is None or moment < oldest):
                    oldest = moment
                if match.match_id in seen:
                    continue
                seen.add(match.match_id)
                fresh.append(match)
            if fresh:
                yield page.model_copy(update={"items": fresh})
            if reached_since or len(page.items) < page_size:
                break
            offset += page_size
            if offset + page_size > HISTORY_MAX_OFFSET:
                if oldest is None:
                    logger.warning("history of %s: no timestamps to page by; stopping", player_id)
                    break
                next_until = oldest + timedelta(seconds=1)
                if until is not None and next_until >= until:
                    logger.warning(
                        "history of %s: more than %d matches at %s; stopping",
                        player_id,
                        HISTORY_MAX_OFFSET,
                        oldest.isoformat(),
                    )
                    break
                until, offset = next_until, 0
                windows += 1
                logger.debug("history of %s: window %d up to %s", player_id, windows, until)

    async def get_games_stats(
        self,
        player_id: str,
        offset: int = 0,
        limit: int = MAX_LIMIT,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> GameStatsPage:
        """GET /players/{id}/games/cs2/stats: one row of basic stats per match, newest first."""
        pid = validate_id(player_id, what="player_id")
        _check_page(offset, limit)
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if since is not None:
            params["from"] = _unix(since)
        if until is not None:
            params["to"] = _unix(until)
        path = f"players/{quote(pid, safe='')}/games/{GAME}/stats"
        return await self._get(path, GameStatsPage, params, player=True)

    async def get_match(self, match_id: str) -> MatchDetails:
        mid = validate_id(match_id, what="match_id")
        return await self._get(f"matches/{quote(mid, safe='')}", MatchDetails)

    async def get_match_stats(self, match_id: str) -> MatchStats:
        mid = validate_id(match_id, what="match_id")
        return await self._get(f"matches/{quote(mid, safe='')}/stats", MatchStats)

    async def search_players(
        self, prefix: str, offset: int = 0, limit: int = 20, *, game: str | None = None
    ) -> SearchPage:
        """GET /search/players?nickname=PREFIX (optionally &game=cs2)."""
        name = validate_nickname(prefix, what="search prefix")
        _check_page(offset, limit)
        params: dict[str, Any] = {"nickname": name, "offset": offset, "limit": limit}
        if game:
            params["game"] = game
        return await self._get("search/players", SearchPage, params)

    # -- machinery ---------------------------------------------------------------------------------

    async def _get(
        self,
        path: str,
        model: type[M],
        params: dict[str, Any] | None = None,
        *,
        player: bool = False,
    ) -> M:
        endpoint = f"GET /{path}"
        response = await self._send_with_retries(path, params, endpoint)
        if response.status_code in (401, 403):
            raise Unauthorized(endpoint, response.status_code)
        if response.status_code == 404:
            message = _error_message(response)
            raise (PlayerNotFound if player else NotFound)(endpoint, message)
        if response.status_code >= 400 or response.status_code < 200:
            raise BadRequest(endpoint, response.status_code, _error_message(response))
        raw = response.content  # validated as bytes: no str decode of every page
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            logger.warning("invalid payload from %s (%d bytes)", endpoint, len(raw))
            raise InvalidPayload(endpoint, response.text, str(exc)) from exc

    async def _send_with_retries(
        self, path: str, params: dict[str, Any] | None, endpoint: str
    ) -> httpx.Response:
        attempts = 0

        async def attempt() -> httpx.Response:
            nonlocal attempts
            attempts += 1
            return await self._send_once(path, params, endpoint)

        def before_sleep(state: RetryCallState) -> None:
            self.retry_count += 1
            error = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            logger.warning(
                "%s attempt %d/%d failed (%s); retrying in %.2fs",
                endpoint,
                state.attempt_number,
                self.max_retries,
                error,
                delay,
            )

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries),
            wait=wait_exponential_jitter(
                initial=self.backoff_initial, max=self.backoff_max, jitter=self.backoff_initial
            ),
            retry=retry_if_exception_type((RetryableError, httpx.TransportError)),
            before_sleep=before_sleep,
            reraise=False,
        )
        try:
            response: httpx.Response = await retrying(attempt)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            status = last.status if isinstance(last, RetryableError) else None
            logger.error("%s gave up after %d attempt(s): %s", endpoint, attempts, last)
            raise FaceitUnavailable(endpoint, attempts, str(last) or repr(last), status) from last
        log = logger.info if attempts > 1 else logger.debug
        log("%s -> HTTP %d after %d attempt(s)", endpoint, response.status_code, attempts)
        return response

    async def _send_once(
        self, path: str, params: dict[str, Any] | None, endpoint: str
    ) -> httpx.Response:
        await self._wait_for_pause()
        async with self._semaphore:
            await self._wait_for_pause()
            await self._limiter.acquire()
            self.request_count += 1
            try:
                response = await self._http.get(path, params=params)
            except httpx.TransportError:
                await self._record(0)
                raise
            await self._record(response.status_code)
        self._read_rate_headers(response)
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = _parse_retry_after(response.headers.get("retry-after"))
            if retry_after is not None:
                self._pause(retry_after)
            raise RetryableError(endpoint, response.status_code, retry_after)
        return response

    async def _record(self, status: int) -> None:
        self.status_counts[status] += 1
        if self.on_request is not None:
            result = self.on_request(status)
            if inspect.isawaitable(result):
                await result

    def _read_rate_headers(self, response: httpx.Response) -> None:
        remaining = _header_number(response.headers.get("ratelimit-remaining"))
        if remaining is None or remaining > 0:
            return
        reset = _header_number(response.headers.get("ratelimit-reset"))
        if reset is None:
            return
        if reset > 1_000_000_000:  # an epoch rather than delta-seconds
            reset = reset - time.time()
        self._pause(reset)

    def _pause(self, seconds: float) -> None:
        seconds = min(max(0.0, seconds), self.max_retry_after)
        until = time.monotonic() + seconds
        if until > self._paused_until:
            logger.info("FACEIT rate limit: pausing all requests for %.2fs", seconds)
            self._paused_until = until

    async def _wait_for_pause(self) -> None:
        while (delay := self._paused_until - time.monotonic()) > 0:
            await asyncio.sleep(delay)


def default_concurrency(rate_limit: float) -> int:
    """Requests in flight needed to hold ``rate_limit`` requests/s when each stays in flight up
    to ROUND_TRIP_SECONDS (Little's law: in flight = rate x time in flight), at least
    MIN_CONCURRENCY. A fixed 8 holds 100 requests/s only while a request takes under 80 ms
    end to end; in bench/ingest.py (50 ms of latency) one took 66-86 ms."""
    return max(MIN_CONCURRENCY, math.ceil(rate_limit * ROUND_TRIP_SECONDS))


def _check_page(offset: int, limit: int, *, max_offset: int | None = None) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    if max_offset is not None and offset > max_offset:
        raise ValueError(
            f"offset must be <= {max_offset} on this endpoint (page deeper by time window)"
        )


def _error_message(response: httpx.Response) -> str:
    try:
        return ErrorBody.model_validate_json(response.text).message
    except ValidationError:
        return ""
