"""An in-process stand-in for the Stripe API endpoints the product calls: the default set-up's
demo checkout, and the tests' Stripe.

With no STRIPE_SECRET_KEY (outside production), ``core.billing.BillingService.from_settings``
talks to :func:`demo_stripe` through the official ``stripe`` library, so register -> upgrade ->
premium runs the same code as Stripe Checkout: a checkout session is created over the API, the
user pays on a (clearly labelled) demo checkout page of the app, the stand-in sends signed
webhooks, and the success return is verified with the API. Nothing is charged.

It speaks Stripe's wire format: form-encoded POST bodies (``line_items[0][price]=...``), Bearer
``sk_`` key auth, JSON objects with ``id``, ``object``, ``created`` and Stripe-shaped errors, and it
signs the webhooks it sends exactly like Stripe (``Stripe-Signature: t=...,v1=<HMAC-SHA256>``), so
the official ``stripe`` library and ``stripe.Webhook.construct_event`` run against it unchanged.

Endpoints: POST /v1/customers, GET /v1/customers/{id}, POST /v1/checkout/sessions,
GET /v1/checkout/sessions/{id}, POST /v1/billing_portal/sessions, GET /v1/subscriptions/{id},
GET /v1/prices/{id}. Hosted pages (tests; the demo uses the app's own page instead):
GET /checkout/{id} (a hosted page with a "Pay" button posting to
/checkout/{id}/pay, which completes the session, creates the subscription, sends
checkout.session.completed + customer.subscription.created to ``webhook_url`` and redirects to the
success URL) and GET /billing_portal/{id} (a "Cancel subscription" button).

Use ``FakeStripe.http_client()`` to point a ``stripe.StripeClient`` at it in-process, or
``serve_in_thread()`` to serve it over real HTTP on loopback (for a browser).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import httpx
import stripe
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

API_VERSION = "2026-10-28.endive"
DEFAULT_API_KEY = "sk_test_fake_stripe"
PERIOD_SECONDS = 30 * 24 * 3600
DEMO_PRICE_ID = "price_demo_premium_monthly"
DEMO_PRICE = {"unit_amount": 499, "currency": "eur", "interval": "month"}
DEMO_CHECKOUT_PAGE = "demo_checkout"  # the app page (url path) that plays Stripe's hosted pages


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def sign_payload(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value for ``payload`` (what Stripe sends with a webhook)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    body = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    mac = hmac.new(secret.encode("utf-8"), f"{ts}.{body}".encode(), hashlib.sha256)
    return f"t={ts},v1={mac.hexdigest()}"


def make_event(
    type: str,
    obj: dict[str, Any],
    created: int | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A Stripe event object wrapping ``obj`` (a snapshot event, as delivered to webhooks)."""
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()) if created is None else int(created),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
    }


def nest_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracket encoding back to nested dicts/lists (``a[b][0]=x`` -> {"a":{"b":["x"]}})."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    if items and all(key == "" for key in items):  # expand[]=x
        return list(items.values())
    return items


def _error(status: int, message: str, *, code: str | None = None, param: str | None = None) -> Any:
    kind = "authentication_error" if status == 401 else "invalid_request_error"
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return JSONResponse({"error": error}, status_code=status)


class SyncASGITransport(httpx.BaseTransport):
    """A synchronous httpx transport that calls an ASGI app in-process (no socket).

    Each request runs on a short-lived event loop (in a helper thread when the calling thread
    already runs one), so sync code such as the stripe library can talk to an ASGI fake.
    """

    def __init__(self, app: Any) -> None:
        self._transport = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            inner = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            response = await self._transport.handle_async_request(inner)
            content = await response.aread()
            return response.status_code, response.headers.raw, content

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            status, headers, content = asyncio.run(call())
        else:
            with ThreadPoolExecutor(max_workers=1) as pool:
                status, headers, content = pool.submit(asyncio.run, call()).result()
        return httpx.Response(status, headers=headers, content=content, request=request)


def asgi_client(app: Any, base_url: str = "http://testserver", **kwargs: Any) -> httpx.Client:
    """A sync httpx client for an ASGI app (tests: the API app as a webhook target)."""
    return httpx.Client(transport=SyncASGITransport(app), base_url=base_url, **kwargs)


class _InProcessHTTPClient(stripe.HTTPXClient):
    """stripe's httpx client, sending its requests to an ASGI app instead of the network."""

    name = "httpx-asgi"

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(allow_sync_methods=False)
        self._client = client


class FakeStripe:
    """State and the ASGI app of the fake; thread-safe enough for one test server."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        webhook_secret: str | None = None,
        webhook_url: str | None = None,
        webhook_client: httpx.Client | None = None,
        prices: set[str] | None = None,
        base_url: str = "http://fake-stripe.test",
        hosted_url: Callable[[str], str] | None = None,
        deliver: Callable[[bytes, str], Any] | None = None,
        price: dict[str, Any] | None = None,
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.webhook_client = webhook_client
        self.prices = prices
        self.base_url = base_url
        # where the browser goes for a checkout or portal session id (default: this fake's pages)
        self.hosted_url = hosted_url
        # in-process webhook delivery (payload, Stripe-Signature) instead of an HTTP POST
        self.deliver = deliver
        self.price = price or DEMO_PRICE
        # the demo keeps no state across restarts: customers stored by an earlier run are adopted
        self.adopt_unknown_customers = False
        self.customers: dict[str, dict[str, Any]] = {}
        self.checkout_sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[tuple[str, int | str]] = []
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.RLock()
        self._app: FastAPI | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- clients -------------------------------------------------------------------------------

    @property
    def asgi_app(self) -> FastAPI:
        if self._app is None:
            self._app = self._build_app()
        return self._app

    def http_client(self) -> stripe.HTTPClient:
        """A stripe HTTP client that calls this fake in-process (no socket)."""
        return _InProcessHTTPClient(asgi_client(self.asgi_app, self.base_url))

    def stripe_client(self) -> stripe.StripeClient:
        return stripe.StripeClient(
            self.api_key,
            base_addresses={"api": self.base_url},
            http_client=self.http_client(),
            max_network_retries=0,
        )

    # -- running over HTTP ---------------------------------------------------------------------

    def serve_in_thread(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve the fake over HTTP on loopback in a daemon thread; returns its base URL."""
        if self._server is not None:
            return self.base_url
        config = uvicorn.Config(self.asgi_app, host=host, port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="fake-stripe", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the fake Stripe server did not start on {host}:{port}")
            time.sleep(0.02)
        bound = server.servers[0].sockets[0].getsockname()[1]
        self._server, self._thread = server, thread
        self.base_url = f"http://{host}:{bound}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    # -- state changes (also usable directly from tests) ----------------------------------------

    def create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer: dict[str, Any] = {
            "id": new_id("cus"),
            "object": "customer",
            "created": int(time.time()),
            "email": params.get("email"),
            "name": params.get("name"),
            "metadata": params.get("metadata") or {},
            "livemode": False,
        }
        with self._lock:
            self.customers[customer["id"]] = customer
        return customer

    def complete_checkout(self, session_id: str) -> dict[str, Any]:
        """Pay an open checkout session: subscription created, webhooks sent."""
        with self._lock:
            cs = self.checkout_sessions[session_id]
            if cs["status"] != "open":
                raise ValueError(f"checkout session {session_id} is {cs['status']}")
            if not cs["customer"]:
                cs["customer"] = str(
                    self.create_customer({"email": cs.get("customer_email")})["id"]
                )
            now = int(time.time())
            sub_id = new_id("sub")
            metadata = (cs.pop("_subscription_data", None) or {}).get("metadata") or {}
            subscription = {
                "id": sub_id,
                "object": "subscription",
                "created": now,
                "customer": cs["customer"],
                "status": "active",
                "start_date": now,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "ended_at": None,
                "metadata": metadata,
                "items": {
                    "object": "list",
                    "has_more": False,
                    "data": [
                        {
                            "id": new_id("si"),
                            "object": "subscription_item",
                            "price": {"id": cs["_price"], "object": "price"},
                            "quantity": 1,
                            "current_period_start": now,
                            "current_period_end": now + PERIOD_SECONDS,
                        }
                    ],
                },
                "livemode": False,
            }
            self.subscriptions[sub_id] = subscription
            cs.update(status="complete", payment_status="paid", subscription=sub_id, url=None)
            completed = self.public(cs)
        self.send_event("checkout.session.completed", completed, created=now)
        self.send_event("customer.subscription.created", subscription, created=now)
        return cs

    def cancel_subscription(self, subscription_id: str) -> dict[str, Any]:
        with self._lock:
            sub = self.subscriptions[subscription_id]
            now = int(time.time())
            sub.update(status="canceled", canceled_at=now, ended_at=now)
        self.send_event("customer.subscription.deleted", sub, created=now)
        return sub

    def fail_payment(self, subscription_id: str) -> dict[str, Any]:
        """A failed renewal: invoice.payment_failed, then the subscription turns past_due."""
        with self._lock:
            sub = self.subscriptions[subscription_id]
            now = int(time.time())
            invoice = {
                "id": new_id("in"),
                "object": "invoice",
                "created": now,
                "customer": sub["customer"],
                "status": "open",
                "attempt_count": 1,
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {"subscription": subscription_id},
                },
            }
            sub["status"] = "past_due"
        self.send_event("invoice.payment_failed", invoice, created=now)
        self.send_event("customer.subscription.updated", sub, created=now)
        return invoice

    def send_event(self, type: str, obj: dict[str, Any], created: int | None = None) -> None:
        event = make_event(type, json.loads(json.dumps(obj)), created=created)
        with self._lock:
            self.events.append(event)
        if not self.webhook_secret or not (self.webhook_url or self.deliver):
            return
        payload = json.dumps(event).encode()
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": sign_payload(payload, self.webhook_secret),
        }
        if self.deliver is not None:
            self.deliveries.append(
                (event["id"], self.deliver(payload, headers["Stripe-Signature"]))
            )
            return
        assert self.webhook_url is not None
        client = self.webhook_client or httpx.Client(timeout=10)
        try:
            response = client.post(self.webhook_url, content=payload, headers=headers)
            self.deliveries.append((event["id"], response.status_code))
        except httpx.HTTPError as exc:
            self.deliveries.append((event["id"], f"error: {exc}"))
        finally:
            if client is not self.webhook_client:
                client.close()

    def adopt(self, customer: Any) -> bool:
        """Demo only: take a customer id of an earlier run as known (True when adopted)."""
        if not self.adopt_unknown_customers or not isinstance(customer, str):
            return False
        if not customer.startswith("cus_"):
            return False
        with self._lock:
            self.customers.setdefault(
                customer,
                {"id": customer, "object": "customer", "created": int(time.time()), "metadata": {}},
            )
        return True

    def page_url(self, kind: str, object_id: str) -> str:
        """The browser address of a checkout (``kind="checkout"``) or portal session."""
        if self.hosted_url is not None:
            return self.hosted_url(object_id)
        return f"{self.base_url}/{kind}/{object_id}"

    def price_object(self, price_id: str) -> dict[str, Any]:
        return {
            "id": price_id,
            "object": "price",
            "active": True,
            "currency": self.price["currency"],
            "unit_amount": self.price["unit_amount"],
            "recurring": {"interval": self.price["interval"], "interval_count": 1},
            "type": "recurring",
            "product": "prod_test_faceit_ai_premium",
            "livemode": False,
        }

    @staticmethod
    def public(obj: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    # -- the app -------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="fake Stripe", openapi_url=None, docs_url=None, redoc_url=None)
        fake = self

        def authorized(request: Request) -> bool:
            header = request.headers.get("authorization", "")
            scheme, _, key = header.partition(" ")
            return scheme.lower() == "bearer" and hmac.compare_digest(key, fake.api_key)

        async def form(request: Request) -> dict[str, Any]:
            body = (await request.body()).decode("utf-8")
            return nest_form(parse_qsl(body, keep_blank_values=True))

        def guarded(handler: Callable[..., Any]) -> Callable[..., Any]:
            async def wrapper(request: Request) -> Any:
                fake.requests.append((request.method, request.url.path))
                if not authorized(request):
                    return _error(401, "Invalid API Key provided.")
                return await handler(request)

            return wrapper

        async def create_customer(request: Request) -> Any:
            return fake.create_customer(await form(request))

        async def get_customer(request: Request) -> Any:
            cid = request.path_params["cid"]
            if cid not in fake.customers:
                return _error(404, f"No such customer: '{cid}'", code="resource_missing")
            return fake.customers[cid]

        async def create_checkout(request: Request) -> Any:
            params = await form(request)
            mode = params.get("mode")
            if mode not in {"subscription", "payment", "setup"}:
                return _error(400, "Missing required param: mode.", param="mode")
            if not params.get("success_url"):
                return _error(400, "Missing required param: success_url.", param="success_url")
            items = params.get("line_items") or []
            price = items[0].get("price") if items and isinstance(items[0], dict) else None
            if not price or (fake.prices is not None and price not in fake.prices):
                return _error(400, f"No such price: '{price}'", code="resource_missing")
            customer = params.get("customer")
            if customer and customer not in fake.customers and not fake.adopt(customer):
                return _error(400, f"No such customer: '{customer}'", code="resource_missing")
            sid = new_id("cs")
            now = int(time.time())
            session = {
                "id": sid,
                "object": "checkout.session",
                "created": now,
                "expires_at": now + 24 * 3600,
                "mode": mode,
                "status": "open",
                "payment_status": "unpaid",
                "customer": customer,
                "customer_email": params.get("customer_email"),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata") or {},
                "success_url": params["success_url"],
                "cancel_url": params.get("cancel_url"),
                "subscription": None,
                "url": fake.page_url("checkout", sid),
                "livemode": False,
                "_price": price,
                "_subscription_data": params.get("subscription_data") or {},
            }
            with fake._lock:
                fake.checkout_sessions[sid] = session
            return fake.public(session)

        async def get_checkout(request: Request) -> Any:
            sid = request.path_params["sid"]
            if sid not in fake.checkout_sessions:
                return _error(404, f"No such checkout.session: '{sid}'", code="resource_missing")
            session = fake.public(fake.checkout_sessions[sid])
            expand = nest_form(parse_qsl(request.url.query)).get("expand") or []
            if "subscription" in expand and session["subscription"]:
                session["subscription"] = fake.subscriptions[session["subscription"]]
            return session

        async def create_portal(request: Request) -> Any:
            params = await form(request)
            customer = params.get("customer")
            if customer not in fake.customers and not fake.adopt(customer):
                return _error(400, f"No such customer: '{customer}'", code="resource_missing")
            pid = new_id("bps")
            portal = {
                "id": pid,
                "object": "billing_portal.session",
                "created": int(time.time()),
                "customer": customer,
                "return_url": params.get("return_url"),
                "url": fake.page_url("billing_portal", pid),
                "livemode": False,
            }
            fake.portal_sessions[pid] = portal
            return portal

        async def get_subscription(request: Request) -> Any:
            sub_id = request.path_params["sub_id"]
            if sub_id not in fake.subscriptions:
                return _error(404, f"No such subscription: '{sub_id}'", code="resource_missing")
            return fake.subscriptions[sub_id]

        async def get_price(request: Request) -> Any:
            price_id = request.path_params["price_id"]
            if fake.prices is not None and price_id not in fake.prices:
                return _error(404, f"No such price: '{price_id}'", code="resource_missing")
            return fake.price_object(price_id)

        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", "/v1/prices/{price_id}", get_price),
            ("POST", "/v1/customers", create_customer),
            ("GET", "/v1/customers/{cid}", get_customer),
            ("POST", "/v1/checkout/sessions", create_checkout),
            ("GET", "/v1/checkout/sessions/{sid}", get_checkout),
            ("POST", "/v1/billing_portal/sessions", create_portal),
            ("GET", "/v1/subscriptions/{sub_id}", get_subscription),
        ]
        for method, path, handler in routes:
            app.add_api_route(path, guarded(handler), methods=[method])

        @app.get("/checkout/{sid}", response_class=HTMLResponse)
        def checkout_page(sid: str) -> Response:
            cs = fake.checkout_sessions.get(sid)
            if cs is None:
                return HTMLResponse("<h1>Unknown checkout session</h1>", status_code=404)
            if cs["status"] != "open":
                return HTMLResponse("<h1>This checkout session is already complete</h1>", 409)
            cancel = html.escape(cs.get("cancel_url") or "/", quote=True)
            return HTMLResponse(
                "<!doctype html><html><head><title>Fake Stripe Checkout</title></head><body>"
                "<h1>Fake Stripe Checkout (test mode)</h1>"
                f"<p>Subscription to <code>{html.escape(cs['_price'])}</code></p>"
                f'<form method="post" action="/checkout/{html.escape(sid, quote=True)}/pay">'
                '<button type="submit" id="pay">Pay</button></form>'
                f'<p><a href="{cancel}" id="cancel">Cancel</a></p></body></html>'
            )

        @app.post("/checkout/{sid}/pay")
        def checkout_pay(sid: str) -> Response:
            cs = fake.checkout_sessions.get(sid)
            if cs is None or cs["status"] != "open":
                return HTMLResponse("<h1>This checkout session cannot be paid</h1>", 409)
            fake.complete_checkout(sid)
            target = str(cs["success_url"]).replace("{CHECKOUT_SESSION_ID}", sid)
            return RedirectResponse(target, status_code=303)

        @app.get("/billing_portal/{pid}", response_class=HTMLResponse)
        def portal_page(pid: str) -> Response:
            portal = fake.portal_sessions.get(pid)
            if portal is None:
                return HTMLResponse("<h1>Unknown portal session</h1>", status_code=404)
            back = html.escape(portal.get("return_url") or "/", quote=True)
            return HTMLResponse(
                "<!doctype html><html><head><title>Fake Stripe Billing Portal</title></head>"
                "<body><h1>Fake Stripe Billing Portal (test mode)</h1>"
                f'<form method="post" action="/billing_portal/{html.escape(pid, quote=True)}'
                '/cancel"><button type="submit" id="cancel-subscription">Cancel subscription'
                f'</button></form><p><a href="{back}" id="return">Return</a></p></body></html>'
            )

        @app.post("/billing_portal/{pid}/cancel")
        def portal_cancel(pid: str) -> Response:
            portal = fake.portal_sessions.get(pid)
            if portal is None:
                return HTMLResponse("<h1>Unknown portal session</h1>", status_code=404)
            for sub in list(fake.subscriptions.values()):
                if sub["customer"] == portal["customer"] and sub["status"] != "canceled":
                    fake.cancel_subscription(sub["id"])
            return RedirectResponse(portal.get("return_url") or "/", status_code=303)

        return app


@lru_cache(maxsize=4)
def demo_stripe(public_url: str) -> FakeStripe:
    """The demo checkout of this process: one stand-in with a random key and webhook secret.

    Secrets are per process, so nobody can sign a webhook for it from outside; its checkout
    and portal sessions open on the app's demo checkout page.
    """
    app_url = public_url.rstrip("/")
    fake = FakeStripe(
        api_key=f"sk_test_demo_{secrets.token_hex(16)}",
        webhook_secret=f"whsec_demo_{secrets.token_hex(16)}",
        prices={DEMO_PRICE_ID},
        base_url="http://demo-stripe.invalid",
    )
    fake.hosted_url = lambda object_id: f"{app_url}/{DEMO_CHECKOUT_PAGE}?id={object_id}"
    fake.adopt_unknown_customers = True
    return fake
