""" "Log in with FACEIT": the OpenID Connect relying party (authorization code + PKCE).

The front door (the app's routes, app/routes.py) calls ``FaceitLogin.start`` and
``FaceitLogin.finish``; this module does the protocol and the account linking:

1. ``start`` makes a flow row (``faceit_login_flows``): a random ``state``, ``nonce`` and PKCE
   ``code_verifier`` (authlib's generator; the S256 challenge by authlib's client), valid for
   ``FLOW_SECONDS``, with the logged-in account that asked to link, if any. It returns FACEIT's
   authorization URL (from the discovery document) and the state, which the front door also
   keeps in an HttpOnly cookie: the callback must come back to the browser that started it.
2. ``finish`` takes the callback's ``state``, ``code`` (or ``error``) and the browser's state
   cookie. It refuses, with a ``LoginRefused`` that says why and changing nothing:
   a state that differs from the cookie (tampered, or another browser's), a flow already used
   or expired (a replayed callback: the row is consumed by one conditional UPDATE before the
   code is exchanged), a code FACEIT will not exchange (used twice, or a PKCE verifier that
   does not match the challenge: ``invalid_grant``), and an ID token that fails verification
   with joserfc: RS256 signature against the provider's JWKS, ``iss`` = the discovery
   document's issuer, ``aud`` = our client id, ``exp`` (and ``iat``/``nbf``) with
   ``LEEWAY_SECONDS``, ``nonce`` = the flow's. Only then is the player linked
   (core.auth.link_faceit_player, or faceit_account for a login).

The FACEIT player id is FACEIT's ``guid`` claim (the Data API's ``player_id``), else ``sub``.
No hand-written crypto: PKCE, the token request and client authentication are authlib's, JOSE
is joserfc's.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from core import auth
from core.db.schema import FaceitLoginFlow
from core.settings import FaceitOAuth

FLOW_SECONDS = 600
LEEWAY_SECONDS = 30
SCOPE = "openid profile email"
HTTP_TIMEOUT_SECONDS = 10.0
STATE_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

REFUSALS = {
    "state": (
        "This login did not start in this browser, or its link was changed on the way. Nothing "
        "was changed: start again with Log in with FACEIT."
    ),
    "used": (
        "This login link was already used or has expired (each works once, for 10 minutes). "
        "Nothing was changed: start again with Log in with FACEIT."
    ),
    "denied": (
        "FACEIT did not log you in (the login was cancelled or refused). Nothing was changed."
    ),
    "code": (
        "FACEIT refused to complete this login (its code was already used, or the login was "
        "tampered with). Nothing was changed: start again with Log in with FACEIT."
    ),
    "signature": (
        "FACEIT's answer was not signed with FACEIT's key, so it was refused. Nothing was changed."
    ),
    "expired": "FACEIT's answer had expired, so it was refused. Nothing was changed: try again.",
    "claims": (
        "FACEIT's answer was not meant for this app or for this login (its issuer, audience or "
        "nonce differ), so it was refused. Nothing was changed."
    ),
    "taken": (
        "This FACEIT player is already linked to another account: log in to that account "
        "instead. Nothing was changed."
    ),
    "other_player": "Your account is already linked to another FACEIT player. Nothing was changed.",
    "account": "The account that asked to link FACEIT no longer exists: log in again.",
    "unavailable": "FACEIT's login could not be reached; try again in a moment.",
    "disabled": "Log in with FACEIT is not set up on this server.",
}


class LoginRefused(Exception):
    """A refused login; ``code`` is a key of ``REFUSALS``, ``str()`` its message."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail  # for the log, never shown
        super().__init__(REFUSALS[code])


@dataclass(frozen=True)
class LoginStart:
    url: str
    state: str


@dataclass(frozen=True)
class LoginResult:
    user_id: int
    username: str
    player_id: str
    nickname: str
    created: bool  # a new account was made for this FACEIT player
    linked: bool  # an existing account was linked (from its Account page)


@dataclass(frozen=True)
class _Flow:
    nonce: str
    code_verifier: str
    link_user_id: int | None


class FaceitLogin:
    """The relying party of one OAuth2 client; ``transport`` reaches the provider (the demo
    league's stand-in is reached in-process, FACEIT over the network)."""

    def __init__(
        self,
        oauth: FaceitOAuth,
        sessions: Callable[[], Session],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.oauth = oauth
        self.sessions = sessions
        self.transport = transport
        self.now = now

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.oauth.client_id,
            client_secret=self.oauth.client_secret,
            scope=SCOPE,
            redirect_uri=self.oauth.redirect_url,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
            transport=self.transport,
            timeout=HTTP_TIMEOUT_SECONDS,
        )

    async def _get_json(self, client: AsyncOAuth2Client, url: str) -> dict[str, Any]:
        try:
            response = await client.request("GET", url, withhold_token=True)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise LoginRefused("unavailable", f"{url}: {exc}") from None
        if not isinstance(document, dict):
            raise LoginRefused("unavailable", f"{url}: not a JSON object")
        return document

    async def metadata(self, client: AsyncOAuth2Client) -> dict[str, Any]:
        document = await self._get_json(client, self.oauth.discovery_url)
        needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        if not all(isinstance(document.get(name), str) for name in needed):
            raise LoginRefused("unavailable", "the discovery document lacks endpoints")
        return document

    # -- 1. the redirect to FACEIT ---------------------------------------------------------------

    async def start(self, link_user_id: int | None = None) -> LoginStart:
        state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
        async with self._client() as client:
            metadata = await self.metadata(client)
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                code_verifier=verifier,
                nonce=nonce,
                **({} if self.oauth.demo else {"redirect_popup": "true"}),
            )
        now = self.now()
        await run_in_threadpool(self._save_flow, state, nonce, verifier, link_user_id, now)
        return LoginStart(url=url, state=state)

    def _save_flow(
        self, state: str, nonce: str, verifier: str, link_user_id: int | None, now: datetime
    ) -> None:
        with self.sessions() as session:
            session.add(
                FaceitLoginFlow(
                    state=state,
                    nonce=nonce,
                    code_verifier=verifier,
                    link_user_id=link_user_id,
                    created_at=now,
                    expires_at=now + timedelta(seconds=FLOW_SECONDS),
                )
            )
            session.commit()

    # -- 2. the callback ----------------------------------------------------------------------

    async def finish(
        self,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        browser_state: str | None,
    ) -> LoginResult:
        if not state or not STATE_RE.fullmatch(state) or not browser_state:
            raise LoginRefused("state", "no state, or no state cookie")
        if not hmac.compare_digest(state, browser_state):
            raise LoginRefused("state", "the state differs from the browser's cookie")
        flow = await run_in_threadpool(self._consume_flow, state)
        if error or not code:
            raise LoginRefused("denied", f"provider error {error!r}")
        async with self._client() as client:
            metadata = await self.metadata(client)
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=flow.code_verifier,
                )
            except OAuthError as exc:
                raise LoginRefused("code", f"{exc.error}: {exc.description}") from None
            except httpx.HTTPError as exc:
                raise LoginRefused("unavailable", str(exc)) from None
            jwks = await self._get_json(client, metadata["jwks_uri"])
        claims = self.verify_id_token(token.get("id_token"), jwks, metadata["issuer"], flow.nonce)
        player_id = str(claims.get("guid") or claims["sub"])
        nickname = str(claims.get("nickname") or "")
        return await run_in_threadpool(self._link, flow, player_id, nickname)

    def _consume_flow(self, state: str) -> _Flow:
        """Use up the flow of ``state`` (one conditional UPDATE: of two callbacks with the same
        state, one gets it); ``LoginRefused("used")`` when it is unknown, used or expired."""
        now = self.now()
        with self.sessions() as session:
            row = session.execute(
                update(FaceitLoginFlow)
                .where(
                    FaceitLoginFlow.state == state,
                    FaceitLoginFlow.used_at.is_(None),
                    FaceitLoginFlow.expires_at > now,
                )
                .values(used_at=now)
                .returning(
                    FaceitLoginFlow.nonce,
                    FaceitLoginFlow.code_verifier,
                    FaceitLoginFlow.link_user_id,
                )
                .execution_options(synchronize_session=False)
            ).first()
            session.commit()
        if row is None:
            raise LoginRefused("used", "unknown, used or expired state")
        return _Flow(nonce=row[0], code_verifier=row[1], link_user_id=row[2])

    def verify_id_token(
        self, id_token: object, jwks: dict[str, Any], issuer: str, nonce: str
    ) -> dict[str, Any]:
        """The ID token's claims after joserfc checked its signature (RS256, the JWKS's keys),
        issuer, audience, expiry and nonce; ``LoginRefused`` otherwise."""
        if not isinstance(id_token, str) or not id_token:
            raise LoginRefused("claims", "no id_token in the token response")
        try:
            keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            decoded = jwt.decode(id_token, keys, algorithms=["RS256"])
        except BadSignatureError:
            raise LoginRefused("signature", "bad signature") from None
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            # an unknown kid is a key the provider does not publish: a forged signature too
            raise LoginRefused("signature", f"{type(exc).__name__}: {exc}") from None
        claims = dict(decoded.claims)
        registry = jwt.JWTClaimsRegistry(
            now=int(self.now().timestamp()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": self.oauth.client_id},
            exp={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise LoginRefused("expired", "exp passed") from None
        except ClaimError as exc:
            raise LoginRefused("claims", str(exc)) from None
        audience = claims.get("aud")
        several = isinstance(audience, list) and len(audience) > 1
        if several and claims.get("azp") != self.oauth.client_id:  # OIDC core 3.1.3.7, 4-5
            raise LoginRefused("claims", "azp is not this client")
        player_id = str(claims.get("guid") or claims.get("sub") or "")
        if not auth.FACEIT_PLAYER_ID_RE.fullmatch(player_id):
            raise LoginRefused("claims", "no usable player id")
        return claims

    def _link(self, flow: _Flow, player_id: str, nickname: str) -> LoginResult:
        with self.sessions() as session:
            if flow.link_user_id is not None:
                try:
                    user = auth.link_faceit_player(session, flow.link_user_id, player_id, nickname)
                except auth.FaceitPlayerTaken:
                    raise LoginRefused("taken") from None
                except auth.OtherFaceitPlayer:
                    raise LoginRefused("other_player") from None
                except auth.UnknownUser:
                    raise LoginRefused("account") from None
                created, linked = False, True
            else:
                user, created = auth.faceit_account(session, player_id, nickname)
                linked = False
            return LoginResult(
                user_id=user.id,
                username=user.username,
                player_id=player_id,
                nickname=nickname,
                created=created,
                linked=linked,
            )


def make_faceit_login(
    settings: Any, sessions: Callable[[], Session], **options: Any
) -> FaceitLogin | None:
    """The relying party of these settings (None when the login is not configured): with the
    demo league's stand-in, the provider is reached in-process (core.demo_league.oidc)."""
    oauth = settings.faceit_oauth
    if oauth is None:
        return None
    if oauth.demo:
        from core.demo_league.oidc import provider_for

        options.setdefault("transport", httpx.ASGITransport(app=provider_for(settings).site))
    return FaceitLogin(oauth, sessions, **options)
