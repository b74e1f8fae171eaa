"""The demo league's stand-in for FACEIT's OpenID Connect provider ("Log in with FACEIT").

Served by the app itself under ``/demo-faceit`` when the demo league stands in for FACEIT
(app/routes.py), so ``make run`` lets anyone log in as a demo player and the tests need no
FACEIT. It speaks the standard wire format the real provider speaks:

``GET /.well-known/openid-configuration``
    the discovery document (issuer, endpoints, ``S256`` as the only PKCE method, RS256).
``GET /jwks``
    the public half of the RSA signing key, generated when the provider is made (per process).
``GET /authorize``
    the authorization-code request (``response_type=code``, ``client_id``, the registered
    ``redirect_uri``, ``scope`` with ``openid``, ``state``, ``nonce``, ``code_challenge`` with
    ``code_challenge_method=S256``): a page where the visitor picks a demo player.
    ``POST /authorize`` answers 303 to ``redirect_uri?code=...&state=...`` (or
    ``error=access_denied`` on *Cancel*). An unknown client or redirect URI gets an error page,
    never a redirect.
``POST /token``
    ``grant_type=authorization_code`` with HTTP Basic (or ``client_secret_post``) client
    authentication and the PKCE ``code_verifier``: the ID token (RS256, ``iss``, ``aud``,
    ``sub`` and FACEIT's ``guid`` = the player id, ``nickname``, ``nonce``, ``iat``, ``exp``) and
    an access token. A code works once, for 60 seconds; a verifier whose S256 differs from the
    challenge, a wrong redirect URI or client is ``invalid_grant`` / ``invalid_client``.
``GET /userinfo``
    the player of a bearer access token (FACEIT's ``guid``, ``nickname``).

The attributes ``signing_key``, ``id_token_seconds`` and ``nonce_override`` let the suite make
it misbehave like a broken or hostile provider (a token signed by a key it does not publish, an
expired token, a token for another login).
"""

from __future__ import annotations

import base64
import hmac
import html
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlencode, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from core.settings import DEMO_OIDC_PATH, Settings

CODE_SECONDS = 60
ACCESS_TOKEN_SECONDS = 3600
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def new_signing_key() -> RSAKey:
    return RSAKey.generate_key(
        2048, parameters={"use": "sig", "alg": "RS256"}, private=True, auto_kid=True
    )


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    player_id: str
    nickname: str
    expires_at: float
    used: bool = False


class DemoOidcProvider:
    """One OAuth2 client (``client_id``/``client_secret`` with one ``redirect_uri``) and the
    demo league's players (``players()``: ``(player_id, nickname)`` pairs)."""

    def __init__(
        self,
        issuer: str,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        players: Callable[[], Sequence[tuple[str, str]]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._players = players
        self.clock = clock
        self.key = new_signing_key()  # published in the JWKS
        self.signing_key = self.key  # what ID tokens are signed with (the suite may swap it)
        self.id_token_seconds = 300
        self.nonce_override: str | None = None
        self._grants: dict[str, _Grant] = {}
        self._tokens: dict[str, tuple[str, str, float]] = {}
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize, methods=["GET", "POST"]),
                Route("/token", self.token, methods=["POST"]),
                Route("/userinfo", self.userinfo),
            ]
        )

    @property
    def site(self) -> Starlette:
        """The provider at its issuer's path (what the in-process transport reaches)."""
        return Starlette(routes=[Mount(urlsplit(self.issuer).path or "/", app=self.app)])

    # -- documents ------------------------------------------------------------------------------

    def metadata(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "guid", "nickname", "iss", "aud", "exp", "iat", "nonce"],
        }

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(self.metadata())

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    # -- authorization --------------------------------------------------------------------------

    def players(self) -> list[tuple[str, str]]:
        return sorted(self._players(), key=lambda pair: pair[1].lower())

    def _request_problem(self, params: dict[str, str]) -> str | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if "openid" not in params.get("scope", "").split():
            return "invalid_scope"
        if not params.get("state") or not params.get("nonce"):
            return "invalid_request"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "invalid_request"
        return None

    async def authorize(self, request: Request) -> Response:
        if request.method == "POST":
            params = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        else:
            params = dict(request.query_params)
        if params.get("client_id") != self.client_id or not hmac.compare_digest(
            params.get("redirect_uri", ""), self.redirect_uri
        ):
            return HTMLResponse(
                "<h1>Demo FACEIT</h1><p>Unknown client or redirect URI: nothing was sent back.</p>",
                status_code=400,
            )
        problem = self._request_problem(params)
        if problem is not None:
            return self._back(params, error=problem)
        if request.method == "GET":
            return HTMLResponse(self._page(params), headers=NO_STORE)
        if params.get("action") != "login":
            return self._back(params, error="access_denied")
        known = dict(self.players())
        player_id = params.get("player_id", "")
        if player_id not in known:
            return HTMLResponse(self._page(params, "Pick one of the demo players."), 400)
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._grants[code] = _Grant(
                client_id=self.client_id,
                redirect_uri=params["redirect_uri"],
                challenge=params["code_challenge"],
                nonce=params["nonce"],
                player_id=player_id,
                nickname=known[player_id],
                expires_at=self.clock() + CODE_SECONDS,
            )
        return self._back(params, code=code)

    def _back(self, params: dict[str, str], **answer: str) -> Response:
        query = {**answer, "state": params.get("state", "")}
        return RedirectResponse(
            f"{params['redirect_uri']}?{urlencode(query)}", status_code=303, headers=NO_STORE
        )

    def _page(self, params: dict[str, str], problem: str = "") -> str:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in params.items()
            if name not in {"player_id", "action"}
        )
        options = "".join(
            f'<option value="{html.escape(pid)}">{html.escape(nick)}</option>'
            for pid, nick in self.players()
        )
        note = f'<p role="alert" class="problem">{html.escape(problem)}</p>' if problem else ""
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo FACEIT: log in</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #1f1f1f; color: #eee; margin: 0; }}
main {{ max-width: 28rem; margin: 4rem auto; background: #2b2b2b; padding: 2rem;
  border-radius: 8px; border-top: 4px solid #ff5500; }}
h1 {{ margin-top: 0; font-size: 1.4rem; }} label {{ display: block; margin: 1rem 0 .3rem; }}
select, button {{ font-size: 1rem; padding: .5rem; width: 100%; }}
button {{ margin-top: 1rem; border: 0; border-radius: 4px; cursor: pointer; }}
.login {{ background: #ff5500; color: #fff; }} .cancel {{ background: #444; color: #eee; }}
.demo {{ color: #bbb; font-size: .9rem; }} .problem {{ color: #ff8a65; }}
</style></head>
<body><main>
<h1>Demo FACEIT</h1>
<p class="demo">This is the demo league's stand-in for FACEIT's login page: no password is
asked and nothing leaves this server. Pick the demo player you want to be.</p>
{note}
<form method="post">
{hidden}
<label for="player">Demo player</label>
<select id="player" name="player_id">{options}</select>
<button class="login" type="submit" name="action" value="login">Log in as this player</button>
<button class="cancel" type="submit" name="action" value="cancel">Cancel</button>
</form>
</main></body></html>"""

    # -- tokens ---------------------------------------------------------------------------------

    def _client_of(self, request: Request, form: dict[str, str]) -> bool:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:]).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return False
            client_id, _, secret = decoded.partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return hmac.compare_digest(unquote(client_id), self.client_id) and hmac.compare_digest(
            unquote(secret), self.client_secret
        )

    def _error(self, error: str, description: str, status: int = 400) -> Response:
        return JSONResponse(
            {"error": error, "error_description": description}, status_code=status, headers=NO_STORE
        )

    async def token(self, request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if not self._client_of(request, form):
            return self._error("invalid_client", "unknown client or wrong secret", 401)
        if form.get("grant_type") != "authorization_code":
            return self._error("unsupported_grant_type", "only authorization_code")
        with self._lock:
            grant = self._grants.get(form.get("code", ""))
            if grant is None or grant.expires_at <= self.clock():
                return self._error("invalid_grant", "unknown or expired code")
            if grant.used:
                return self._error("invalid_grant", "the code was already used")
            grant.used = True  # used up whatever follows: a code never works twice
        if not hmac.compare_digest(form.get("redirect_uri", ""), grant.redirect_uri):
            return self._error("invalid_grant", "redirect_uri differs from the authorization's")
        verifier = form.get("code_verifier", "")
        if not verifier or not hmac.compare_digest(
            create_s256_code_challenge(verifier), grant.challenge
        ):
            return self._error("invalid_grant", "the PKCE code_verifier does not match")
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": grant.player_id,
            "guid": grant.player_id,
            "nickname": grant.nickname,
            "nonce": self.nonce_override or grant.nonce,
            "iat": now,
            "auth_time": now,
            "exp": now + self.id_token_seconds,
        }
        header = {"alg": "RS256", "kid": self.key.kid or "", "typ": "JWT"}
        id_token = jwt.encode(header, claims, self.signing_key)
        access = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[access] = (grant.player_id, grant.nickname, now + ACCESS_TOKEN_SECONDS)
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_SECONDS,
                "scope": "openid profile email",
                "id_token": id_token,
            },
            headers=NO_STORE,
        )

    async def userinfo(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found[2] <= self.clock():
            return self._error("invalid_token", "unknown or expired access token", 401)
        return JSONResponse({"sub": found[0], "guid": found[0], "nickname": found[1]})


_providers: dict[tuple[object, ...], DemoOidcProvider] = {}
_providers_lock = threading.Lock()


def provider_for(settings: Settings) -> DemoOidcProvider:
    """The process's one stand-in provider for these settings (issuer ``PUBLIC_URL`` +
    ``/demo-faceit``, the demo client, the demo league's players); its key lives as long as the
    process."""
    oauth = settings.faceit_oauth
    if oauth is None or not oauth.demo:
        raise RuntimeError("the demo OIDC provider serves only the demo league's login")
    issuer = settings.public_url.rstrip("/") + DEMO_OIDC_PATH
    players, seed = settings.demo_players, settings.demo_seed
    key = (issuer, oauth.client_id, oauth.client_secret, oauth.redirect_url, players, seed)

    def league_players() -> list[tuple[str, str]]:
        from core.demo_league import default_league

        frame = default_league(players, seed).players_frame()
        return list(zip(frame["player_id"], frame["nickname"], strict=True))

    with _providers_lock:
        if key not in _providers:
            _providers[key] = DemoOidcProvider(
                issuer,
                client_id=oauth.client_id,
                client_secret=oauth.client_secret,
                redirect_uri=oauth.redirect_url,
                players=league_players,
            )
        return _providers[key]
