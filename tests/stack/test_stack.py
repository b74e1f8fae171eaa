"""`faceit-ai stack` for real: nginx (TLS) -> app and API x 2, Prefect server on PostgreSQL with a
process pool and 2 workers, the live worker, Prometheus and Alertmanager, Sentry (a local capture
endpoint).

One stack is started through the CLI for the whole module (it takes most of the time), each
test proves one promise of the production shape, and the last one stops it with Ctrl-C (SIGINT)
and checks that nothing is left running.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pipelines.stack import STACK_MARK, StackPorts
from tests.utils.ports import free_port, free_port_range, fresh_database
from tests.utils.redis_server import start_redis, stop_redis
from tests.utils.sentry_capture import SentryCapture

pytestmark = [pytest.mark.stack, pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec_stacktest0123456789abcdef"
STRIPE_KEY = "sk_test_stack0123456789abcdefghij"
FACEIT_SECRET = "faceit-stack-webhook-secret-0123"
FACEIT_RATE = 10.0
API_INSTANCES = 2
WORKERS = 2
STARTUP_SECONDS = 1200
# nginx's per-address limit on /api/ for this stack: a rate no client is too slow to exceed
# (even at load 20 it sends more than 2 requests a second), and a burst larger than any other
# test's requests from one address
API_RATE = 2
API_BURST = 60


def eventually(check: Callable[[], Any], what: str, timeout: float = 180.0) -> Any:
    """``check()``'s first truthy result, polled; fails naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            last = exc
        time.sleep(1.0)
    pytest.fail(f"{what} (last: {last!r})")


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    ports: StackPorts
    directory: Path
    sentry: SentryCapture
    database_url: str
    output: Path
    started: float

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.ports.https}"

    @property
    def prefect(self) -> str:
        return f"http://127.0.0.1:{self.ports.prefect}/api"

    def edge(self, source: str = "127.0.0.1") -> httpx.Client:
        """A client of nginx connecting from loopback address ``source`` (127.0.0.0/8 is all
        this host's: another address is another client to nginx's per-address limits)."""
        transport = httpx.HTTPTransport(local_address=source, verify=False)
        return httpx.Client(base_url=self.https, transport=transport, timeout=15.0)

    def supervisorctl(self, *args: str) -> str:
        result = subprocess.run(
            [str(Path(sys.executable).with_name("supervisorctl")), "-c",
             str(self.directory / "supervisord.conf"), *args],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        return result.stdout + result.stderr


@pytest.fixture(scope="module")
def stack(
    postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    directory = tmp_path_factory.mktemp("stack")
    database_url = fresh_database(postgres_url, f"{make_url(postgres_url).database}_stack")
    # a Redis of its own: the stack's programs use the product's key prefix, which another
    # test's app on the shared Redis (in parallel, under xdist) would share
    redis_port = free_port()
    redis_server = start_redis(redis_port)
    ports = StackPorts(base=free_port_range(12 + API_INSTANCES), api_instances=API_INSTANCES)
    output = directory / "stack-cli.log"
    with SentryCapture() as sentry, contextlib.ExitStack() as cleanup:
        cleanup.callback(stop_redis, redis_server)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "DEMO_PLAYERS": "40",
            "FACEIT_RATE_LIMIT": str(FACEIT_RATE),
            "SENTRY_DSN": sentry.dsn,
            "API_DEBUG_ERROR_ROUTE": "true",
            "STRIPE_SECRET_KEY": STRIPE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_PRICE_ID": "price_stack_test",
            "FACEIT_WEBHOOK_SECRET": FACEIT_SECRET,
            "LIVE_POLL_SECONDS": "1",
            "STACK_WORKER_POLL_SECONDS": "2",
            "STACK_SCRAPE_INTERVAL": "2s",
            "STACK_API_RATE": str(API_RATE),
            "STACK_API_BURST": str(API_BURST),
        }
        with output.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "pipelines.cli", "stack", "--workers", str(WORKERS),
                 "--api-instances", str(API_INSTANCES), "--port", str(ports.https),
                 "--no-schedules",
                 "--dir", str(directory / "run")],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        running = RunningStack(
            process, ports, directory / "run", sentry, database_url, output, time.monotonic()
        )
        try:
            eventually(
                lambda: (
                    (process.poll() is None and "Running;" in output.read_text())
                    or (process.poll() is not None and pytest.fail(output.read_text()[-4000:]))
                ),
                "the stack did not come up",
                STARTUP_SECONDS,
            )
            yield running
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    process.kill()


def login(http: httpx.Client) -> dict[str, str]:
    response = http.post(
        "/api/auth/login", json={"username": "demo-premium", "password": "demo-password-123"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def a_nickname(stack: RunningStack) -> str:
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            return str(
                conn.execute(text("SELECT nickname FROM players ORDER BY id LIMIT 1")).scalar()
            )
    finally:
        engine.dispose()


def api_requests(stack: RunningStack, route: str) -> list[float]:
    """faceit_ai_api_requests_total of ``route``, per API instance (summed over statuses)."""
    counts = []
    for port in stack.ports.api:
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        counts.append(
            sum(
                float(line.split()[-1])
                for line in body.splitlines()
                if line.startswith("faceit_ai_api_requests_total{") and f'route="{route}"' in line
            )
        )
    return counts


def from_nginx(response: httpx.Response) -> bool:
    """An answer nginx wrote itself (a limit, a redirect): its HTML page, not the API's JSON."""
    return response.headers.get("content-type", "").startswith("text/html") and (
        "<center>nginx</center>" in response.text
    )


# -- the edge --------------------------------------------------------------------------------------


def test_the_stack_prints_its_urls_and_serves_its_own_certificate(stack: RunningStack) -> None:
    printed = stack.output.read_text()
    for url in (stack.https + "/", f"{stack.https}/api/", f"http://127.0.0.1:{stack.ports.http}/"):
        assert url in printed, printed[-2000:]
    # the self-signed certificate made on first start is the one nginx serves, valid for
    # 127.0.0.1: a client that trusts that file (and nothing else) connects and verifies it
    cert = stack.directory / "tls" / "cert.pem"
    served = ssl.get_server_certificate(("127.0.0.1", stack.ports.https))
    assert ssl.PEM_cert_to_DER_cert(served) == ssl.PEM_cert_to_DER_cert(cert.read_text())
    trusting = ssl.create_default_context(cafile=str(cert))
    assert httpx.get(f"{stack.https}/_stcore/health", verify=trusting, timeout=15).text == "ok"
    assert oct((stack.directory / "tls" / "key.pem").stat().st_mode & 0o777) == "0o600"


def test_https_serves_the_app_and_the_api_and_http_redirects(stack: RunningStack) -> None:
    route = "/api/players/{nickname}"
    before = api_requests(stack, route)
    with stack.edge() as http:
        health = http.get("/_stcore/health")
        assert health.status_code == 200 and health.text == "ok"
        assert health.headers["strict-transport-security"].startswith("max-age=")
        assert health.headers["x-content-type-options"] == "nosniff"
        assert "server" not in health.headers or "nginx/" not in health.headers["server"]
        nickname = a_nickname(stack)
        headers = login(http)
        player = http.get(f"/api/players/{nickname}", headers=headers)
        assert player.status_code == 200, player.text
        assert player.json()["player"]["nickname"] == nickname
        assert player.headers["x-request-id"]
        for _ in range(9):
            assert http.get(f"/api/players/{nickname}", headers=headers).status_code == 200
    # nginx balanced the ten calls over both API instances
    served = [a - b for a, b in zip(api_requests(stack, route), before, strict=True)]
    assert sum(served) == 10 and all(n >= 1 for n in served), served
    plain = httpx.get(f"http://127.0.0.1:{stack.ports.http}/api/players/x?y=1", timeout=10)
    assert plain.status_code == 301
    assert plain.headers["location"] == f"https://127.0.0.1:{stack.ports.https}/api/players/x?y=1"


def test_streamlit_websocket_through_nginx(stack: RunningStack) -> None:
    from websockets.exceptions import InvalidMessage
    from websockets.sync.client import connect

    context = ssl.create_default_context(cafile=str(stack.directory / "tls" / "cert.pem"))
    url = f"wss://127.0.0.1:{stack.ports.https}/_stcore/stream"
    # A connection closed before any answer is the transport, not nginx's routing (which answers
    # with a status: 101, or 4xx/5xx): one CI run on a loaded machine had one. It gets two more
    # tries; a third such close fails with nginx's own error log.
    for attempt in range(3):
        try:
            with connect(url, ssl=context, open_timeout=30, subprotocols=["streamlit"]) as ws:
                # the upgrade went through nginx to Streamlit, which answered the handshake
                assert ws.response.status_code == 101
                assert ws.response.headers["Strict-Transport-Security"].startswith("max-age=")
                return
        except InvalidMessage:
            if attempt == 2:
                errors = (stack.directory / "logs" / "nginx.log").read_text()[-3000:]
                raise AssertionError(
                    f"nginx closed the WebSocket unanswered 3 times:\n{errors}"
                ) from None
            time.sleep(1.0)


def test_nginx_refuses_oversized_bodies_before_the_api(stack: RunningStack) -> None:
    route = "/api/auth/login"
    before = api_requests(stack, route)
    with stack.edge() as http:
        login_body = http.post(route, content=b"{" + b" " * 70_000 + b"}")  # API limit: 64 KiB
        webhook = http.post("/webhooks/stripe", content=b"x" * 1_100_000)  # webhooks: 1 MiB
        small = http.post(route, json={"username": "nobody", "password": "wrong-password-1"})
    assert login_body.status_code == 413 and from_nginx(login_body)
    assert webhook.status_code == 413 and from_nginx(webhook)
    assert small.status_code == 401  # a normal body still reaches the API
    assert [a - b for a, b in zip(api_requests(stack, route), before, strict=True)] in (
        [1, 0],
        [0, 1],
    )


def test_a_stripe_webhook_through_nginx_reaches_the_api(stack: RunningStack) -> None:
    payload = json.dumps(
        {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "customer.created",
         "created": int(time.time()), "data": {"object": {"id": "cus_stack", "object": "customer"}}}
    ).encode()  # fmt: skip
    stamp = str(int(time.time()))
    digest = hmac.new(WEBHOOK_SECRET.encode(), stamp.encode() + b"." + payload, hashlib.sha256)
    headers = {"Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}"}
    with stack.edge() as http:
        accepted = http.post("/webhooks/stripe", content=payload, headers=headers)
        forged = http.post(
            "/webhooks/stripe", content=payload, headers={"Stripe-Signature": f"t={stamp},v1=00"}
        )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["received"] is True
    assert forged.status_code == 400  # the API verified the signature: nginx passed the raw body


def test_an_api_error_reaches_sentry_scrubbed(stack: RunningStack) -> None:
    with stack.edge() as http:
        response = http.post(
            "/api/debug/error",
            content=json.dumps({"password": "hunter2-stack-password"}),
            headers={
                "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdGFjayJ9.c2lnbmF0dXJl",
                "Cookie": "session=stack-cookie-0123456789",
                "Content-Type": "application/json",
            },
        )
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    event = eventually(
        lambda: [
            e for e in stack.sentry.events() if e.get("tags", {}).get("request_id") == request_id
        ],
        "no Sentry event with the request id",
        60,
    )[0]
    assert event["exception"]["values"][-1]["type"] == "DebugError"
    assert event["release"].startswith("faceit-ai@")
    raw = stack.sentry.text()
    for secret in ("hunter2-stack-password", "stack-cookie-0123456789", "c2lnbmF0dXJl", STRIPE_KEY):
        assert secret not in raw
    # the same request id in the API's JSON log (what Loki indexes) and in nginx's access log
    logs = stack.directory / "logs"

    def logged(pattern: str) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for path in logs.glob(pattern)
            for line in path.read_text().splitlines()
            if request_id in line and line.startswith("{")
        ]

    api_events = eventually(lambda: logged("api-*.log"), "no API log line with the request id", 30)
    assert {e["service"] for e in api_events} == {"api"}
    assert any(e["level"] == "error" for e in api_events), api_events
    access = eventually(lambda: logged("nginx-access.log"), "nginx did not log the request id", 30)
    assert access[0]["status"] == 500 and access[0]["path"] == "/api/debug/error"


# -- the work pool ---------------------------------------------------------------------------------


def run_deployment(stack: RunningStack, name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Trigger a deployment through the Prefect API; the finished flow run."""
    with httpx.Client(base_url=stack.prefect, timeout=15.0) as prefect:
        deployment = prefect.get(f"/deployments/name/{name}")
        assert deployment.status_code == 200, deployment.text
        created = prefect.post(
            f"/deployments/{deployment.json()['id']}/create_flow_run",
            json={"parameters": parameters},
        )
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]

        def finished() -> dict[str, Any] | None:
            run = prefect.get(f"/flow_runs/{run_id}").json()
            state = run["state"]["type"]
            if state in {"FAILED", "CRASHED", "CANCELLED"}:
                pytest.fail(f"{name} ended {state}: {run['state'].get('message')}")
            return run if state == "COMPLETED" else None

        return eventually(finished, f"{name} did not complete", 900)


def model_versions(stack: RunningStack) -> list[float]:
    versions = []
    for port in stack.ports.api:
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        line = next(
            x
            for x in body.splitlines()
            if x.startswith('faceit_ai_model_version{model="match_outcome"}')
        )
        versions.append(float(line.split()[-1]))
    return versions


def test_train_models_runs_on_a_pool_worker_and_the_api_serves_the_model(
    stack: RunningStack,
) -> None:
    assert model_versions(stack) == [0.0] * API_INSTANCES  # nothing trained yet
    run = run_deployment(stack, "train-models/nightly", {})
    assert run["labels"]["prefect.worker.name"] in {f"worker-{i}" for i in range(1, WORKERS + 1)}
    with httpx.Client(base_url=stack.prefect, timeout=15.0) as prefect:
        pool = prefect.get("/work_pools/faceit-ai").json()
        online = prefect.post("/work_pools/faceit-ai/workers/filter", json={}).json()
    assert pool["type"] == "process"
    assert {w["name"] for w in online if w["status"] == "ONLINE"} == {"worker-1", "worker-2"}
    # the Prefect server keeps its state in PostgreSQL, in a database of its own
    prefect_db = make_url(stack.database_url).set(
        database=f"{make_url(stack.database_url).database}_prefect"
    )
    engine = create_engine(prefect_db)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                text("SELECT state_type FROM flow_run WHERE id = :id"), {"id": run["id"]}
            ).scalar()
    finally:
        engine.dispose()
    assert stored == "COMPLETED"
    eventually(
        lambda: all(v >= 1 for v in model_versions(stack)),
        "the API instances did not load the model",
    )
    with stack.edge() as http:
        headers = login(http)
        nickname = a_nickname(stack)
        answer = http.get(f"/api/players/{nickname}", headers=headers)
        assert answer.status_code == 200


def demo_faceit_counts(stack: RunningStack) -> dict[str, float]:
    body = httpx.get(f"http://127.0.0.1:{stack.ports.demo_faceit}/metrics", timeout=10).text
    counts = {}
    for line in body.splitlines():
        if line.startswith("faceit_ai_demo_faceit_responses_total{"):
            status = line.split('status="')[1].split('"')[0]
            counts[status] = float(line.split()[-1])
    return counts


def test_a_fanned_out_sync_runs_on_both_workers_within_the_faceit_rate_limit(
    stack: RunningStack,
) -> None:
    before = demo_faceit_counts(stack)
    started = time.monotonic()
    # 4 batches: one wave of flow runs on 2 workers x 2 slots (5 took a second wave, ~40 s)
    parent = run_deployment(stack, "sync-tracked-players/sync-tracked-players", {"batch_size": 10})
    seconds = time.monotonic() - started
    with httpx.Client(base_url=stack.prefect, timeout=15.0) as prefect:
        children = prefect.post(
            "/flow_runs/filter",
            json={"flow_runs": {"parent_flow_run_id": {"any_": [parent["id"]]}}, "limit": 100},
        ).json()
        if not children:  # run_deployment from a flow links the child through a task run
            children = prefect.post(
                "/flow_runs/filter",
                json={
                    "flows": {"name": {"any_": ["sync-players"]}},
                    "flow_runs": {"start_time": {"after_": parent["start_time"]}},
                    "limit": 100,
                },
            ).json()
    assert len(children) == 4  # 40 tracked players in batches of 10
    assert all(c["state"]["type"] == "COMPLETED" for c in children)
    workers = {c["labels"].get("prefect.worker.name") for c in children}
    assert workers == {"worker-1", "worker-2"}, workers
    after = demo_faceit_counts(stack)
    sent = sum(after.values()) - sum(before.values())
    assert sent >= 40  # at least one request per player
    # the demo FACEIT API enforces the key's limit: not one request of the two workers was over
    assert after.get("429", 0) == before.get("429", 0)
    assert sent / seconds <= FACEIT_RATE * 1.05


# -- the live path ---------------------------------------------------------------------------------


def live_state(stack: RunningStack, event_id: str, match_id: str) -> dict[str, Any]:
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            event = conn.execute(
                text("SELECT status, attempts, error FROM faceit_events WHERE id = :id"),
                {"id": event_id},
            ).one_or_none()
            match = conn.execute(
                text("SELECT status, prediction FROM live_matches WHERE match_id = :id"),
                {"id": match_id},
            ).one_or_none()
    finally:
        engine.dispose()
    return {
        "event": tuple(event) if event else None,
        "match": match.status if match else None,
        "prediction": match.prediction if match else None,
    }


def live_worker_handled(stack: RunningStack) -> float:
    body = httpx.get(f"http://127.0.0.1:{stack.ports.live_metrics}/metrics", timeout=10).text
    (line,) = [
        x
        for x in body.splitlines()
        if x.startswith('faceit_ai_live_events_total{result="handled"}')
    ]
    return float(line.split()[-1])


def test_a_faceit_webhook_through_nginx_is_handled_by_the_live_worker(
    stack: RunningStack,
) -> None:
    """Runs after the training test: the prediction needs the promoted model. The live worker is
    stopped while the event arrives (it waits in the queue, the API answers at once) and started
    again: only the stack's live worker drains the queue, and it picks the event up."""
    from core.cs2 import MAP_POOL
    from core.demo_league.webhooks import webhook_event
    from core.sources import DEMO_API_KEY

    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            known = conn.execute(text("SELECT id FROM matches ORDER BY id LIMIT 1")).scalar()
    finally:
        engine.dispose()
    # a match body as FACEIT's Data API serves it (the stack's demo FACEIT), announced as new
    match = httpx.get(
        f"http://127.0.0.1:{stack.ports.demo_faceit}/data/v4/matches/{known}",
        headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
        timeout=15,
    ).json()
    match["match_id"] = f"live-{uuid.uuid4()}"
    body = webhook_event("match_object_created", match, at=datetime.now(UTC))
    event_id = body["event_id"]

    assert "stopped" in stack.supervisorctl("stop", "live-worker")
    with stack.edge() as http:
        refused = http.post("/webhooks/faceit", json=body, headers={"X-Faceit-Webhook-Secret": "x"})
        answer = http.post(
            "/webhooks/faceit", json=body, headers={"X-Faceit-Webhook-Secret": FACEIT_SECRET}
        )
    assert refused.status_code == 401
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": True, "duplicate": False}
    queued = live_state(stack, event_id, match["match_id"])
    assert queued == {"event": ("queued", 0, None), "match": None, "prediction": None}

    assert "started" in stack.supervisorctl("start", "live-worker")
    done = eventually(
        lambda: (
            (state := live_state(stack, event_id, match["match_id"]))["event"][0] == "done"
            and state
        ),
        "the live worker did not handle the queued event",
        300,
    )
    assert done["event"] == ("done", 1, None)
    assert done["match"] == "created"
    prediction = done["prediction"]
    assert prediction is not None and set(prediction["per_map"]) == set(MAP_POOL)
    assert prediction["veto"]["pick"] in MAP_POOL and prediction["model_version"] >= 1
    # counted by the restarted worker's /metrics (from 0 at its start), logged as JSON in its
    # log: both happen after the event's row is marked done (the counter once the worker's pass
    # over the queue ends), so they are waited for, not read at once
    eventually(
        lambda: live_worker_handled(stack) >= 1, "the live worker's /metrics counted nothing", 60
    )
    log_file = stack.directory / "logs" / "live-worker.log"

    def logged() -> list[dict[str, Any]]:
        lines = log_file.read_text().splitlines()
        return [json.loads(x) for x in lines if event_id in x and x.startswith("{")]

    lines = eventually(logged, "the live worker did not log the event", 60)
    assert lines[-1]["service"] == "live-worker", lines[-5:]


# -- monitoring ------------------------------------------------------------------------------------


def test_prometheus_scrapes_every_target_and_an_instance_down_alerts(stack: RunningStack) -> None:
    prometheus = f"http://127.0.0.1:{stack.ports.prometheus}/api/v1"

    def all_up() -> list[dict[str, Any]] | None:
        targets = httpx.get(f"{prometheus}/targets", timeout=10).json()["data"]["activeTargets"]
        return targets if targets and all(t["health"] == "up" for t in targets) else None

    targets = eventually(all_up, "not every Prometheus target is up", 120)
    jobs = {t["labels"]["job"] for t in targets}
    assert {
        "faceit-ai-api",
        "faceit-ai-app",
        "faceit-ai-flows",
        "faceit-ai-live",
        "prefect-server",
    } <= jobs
    assert len([t for t in targets if t["labels"]["job"] == "faceit-ai-api"]) == API_INSTANCES

    assert "stopped" in stack.supervisorctl("stop", "api-2")
    down = f"127.0.0.1:{stack.ports.api[1]}"
    alertmanager = f"http://127.0.0.1:{stack.ports.alertmanager}/api/v2/alerts"

    def alert() -> list[dict[str, Any]]:
        alerts = httpx.get(alertmanager, timeout=10).json()
        return [
            a
            for a in alerts
            if a["labels"]["alertname"] == "ApiInstanceDown" and a["labels"]["instance"] == down
        ]

    with stack.edge() as http:
        headers = login(http)
        nickname = a_nickname(stack)
        # the API keeps answering through nginx on the other instance while the alert builds up
        statuses = [
            http.get(f"/api/players/{nickname}", headers=headers).status_code for _ in range(20)
        ]
    assert statuses == [200] * 20
    fired = eventually(alert, "ApiInstanceDown never reached Alertmanager", 120)
    assert fired[0]["status"]["state"] == "active"


# -- the request-rate limit (near the end: it exhausts this address' allowance) -------------------


def burst_of(stack: RunningStack, source: str, sent: int) -> tuple[list[httpx.Response], float]:
    """``sent`` requests to /api/ from address ``source``, 16 at a time; the answers and the
    seconds they took."""
    from concurrent.futures import ThreadPoolExecutor

    with stack.edge(source) as http:
        started = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda _: http.get("/api/players/nobody"), range(sent)))
        return answers, time.monotonic() - started


def test_nginx_limits_the_request_rate_per_address(stack: RunningStack) -> None:
    """nginx lets through the burst, then the rate (this stack: 2 r/s on /api/, burst 60): the
    rest is answered 429 by nginx itself, never reaching the API; another address meanwhile
    has its own allowance. The rate is low enough that any client outruns it: 200 requests
    would have to take over 70 s to go unlimited."""
    sent = 200
    answers, seconds = burst_of(stack, "127.0.0.2", sent)
    limited = [a for a in answers if a.status_code == 429 and from_nginx(a)]
    passed = [a for a in answers if not from_nginx(a)]
    assert len(limited) + len(passed) == sent
    assert limited, f"nginx never limited {sent} requests from one address in {seconds:.1f} s"
    # what got through is bounded by the burst plus the rate over the time it took (+1 s slack)
    assert len(passed) <= API_BURST + API_RATE * (seconds + 1), (len(passed), seconds)
    # the API's own answer to an anonymous caller
    assert {a.status_code for a in passed} == {401}, {a.status_code for a in passed}
    assert limited[0].headers["strict-transport-security"].startswith("max-age=")
    # the limit is per address: another one is let through while the first is still limited
    other, _ = burst_of(stack, "127.0.0.3", 10)
    assert [from_nginx(a) for a in other] == [False] * 10, [a.status_code for a in other]
    again, seconds = burst_of(stack, "127.0.0.2", 40)
    assert any(a.status_code == 429 and from_nginx(a) for a in again), (
        f"127.0.0.2 was no longer limited ({seconds:.1f} s for 40 requests)"
    )


# -- shutdown (last) -------------------------------------------------------------------------------


def test_ctrl_c_stops_everything(stack: RunningStack) -> None:
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(timeout=120) == 0
    assert "Stopped; nothing left running." in stack.output.read_text()
    mark = f"{STACK_MARK}={stack.directory.resolve()}".encode()
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    left.append((entry / "cmdline").read_bytes().replace(b"\0", b" ")[:120])
            except OSError:
                continue
    assert left == []
    ports = [stack.ports.https, stack.ports.http, stack.ports.app, stack.ports.prefect,
             stack.ports.prometheus, stack.ports.alertmanager, *stack.ports.api]  # fmt: skip
    assert [p for p in ports if listening(p)] == []
