"""Independent rerun of issue 16's attacks against a served API (uvicorn, one worker) on a private
PostgreSQL cluster and a private Redis, from outside the process, as an attacker would.

    uv run python bench/attacks.py [--random-requests 5000] [--races 10]

Nothing here uses the shared servers: the cluster (tests.utils.postgres_cluster) and the
redis-server take ports from TEST_PORTS and are removed at the end. The API runs with
LOGIN_MAX_FAILURES=5, API_RATE_LIMIT_USER=100/minute, a Stripe webhook secret, and short database
deadlines (statement 2 s, response 3 s, connect 2 s, pool 2 s) so the frozen case ends quickly;
production derives the response deadline from DATABASE_STATEMENT_TIMEOUT_SECONDS (30 s + 5 s).

Attacks and what each must show:

1. login burst: 5 accounts, 20 parallel wrong passwords each, then 20 parallel with the right
   one among them: password checks per burst (a 401 is a checked password, a 429 refused
   before any check) <= 5, and no 200 after the limit;
2. same-second Stripe tie: created, then deleted and updated (active) with the same ``created``
   second, in both orders: the subscription ends canceled, the premium route answers 403;
3. concurrent webhooks: ``--races`` users without a subscription row, 12 events each (checkout,
   created, ten updates) delivered all at once, each retried like Stripe on a non-2xx: every
   event recorded, every user active, no 200 "duplicate" without effect;
4. ``--random-requests`` requests with made-up HTTP methods and paths, after a warm-up of 500:
   /metrics size and the process's RSS before and after (ratio);
5. a NUL byte in every text field of every route (walking the served OpenAPI document): all 422;
6. PostgreSQL stopped (immediate): every database route 503 problem+json with Retry-After,
   /healthz latency against its healthy baseline; then started: the same process serves again;
   PostgreSQL frozen (SIGSTOP) with 60 requests in flight: all answered before the thaw;
7. Redis stopped: one user sends 3x the per-user limit; at most the limit is served.

The last line is one JSON object with every figure and ``ok`` (every check held).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from core import auth  # noqa: E402
from core.db.engine import make_engine, make_session_factory  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.db.schema import StripeEvent, Subscription  # noqa: E402
from core.fake_stripe import make_event, sign_payload  # noqa: E402
from tests.utils.openapi_text import request_with, text_fields  # noqa: E402
from tests.utils.ports import free_port  # noqa: E402
from tests.utils.postgres_cluster import PrivateCluster, create_cluster  # noqa: E402
from tests.utils.redis_server import start_redis, stop_redis  # noqa: E402

PASSWORD = "Attack-Passw0rd-1"  # noqa: S105 (throw-away accounts of a private cluster)
WHSEC = "whsec_attack_bench"
LOGIN_LIMIT = 5
USER_LIMIT = 100
PROBLEM = "application/problem+json"

checks: dict[str, bool] = {}


def check(name: str, held: bool) -> None:
    checks[name] = bool(held)
    print(f"  {'ok  ' if held else 'FAIL'} {name}")


def start_api(env: dict[str, str], log: Path, port: int) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         # idle keep-alive connections outlive the pauses between attacks: no client-side race
         # with a server closing one the client is reusing
         "--timeout-keep-alive", "300"],
        env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("the API did not start")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def is_problem(response: httpx.Response, status: int) -> bool:
    return response.status_code == status and response.headers.get("content-type", "").startswith(
        PROBLEM
    )


async def token(http: httpx.AsyncClient, username: str) -> str:
    r = await http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return str(r.json()["access_token"])


# 1 ---------------------------------------------------------------------------------------------
async def login_bursts(http: httpx.AsyncClient) -> dict[str, Any]:
    per_burst = []
    accepted_after_limit = 0
    for n in range(5):
        name = f"burst-{n}"
        wrong = await asyncio.gather(
            *(
                http.post("/api/auth/login", json={"username": name, "password": f"guess-{i}"})
                for i in range(20)
            )
        )
        statuses = Counter(r.status_code for r in wrong)
        per_burst.append(statuses[401])  # each 401 is a password bcrypt checked
        passwords = [PASSWORD] * 5 + [f"again-{i}" for i in range(15)]
        random.shuffle(passwords)
        right = await asyncio.gather(
            *(
                http.post("/api/auth/login", json={"username": name, "password": p})
                for p in passwords
            )
        )
        accepted_after_limit += sum(r.status_code == 200 for r in right)
    check("login burst: <= 5 password checks per 20-way burst", max(per_burst) <= LOGIN_LIMIT)
    check("login burst: the right password is refused after the limit", accepted_after_limit == 0)
    return {"checks_per_burst": per_burst, "accepted_after_limit": accepted_after_limit}


# 2, 3 ------------------------------------------------------------------------------------------
def sub_obj(sub_id: str, status: str, customer: str, user_id: int) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "metadata": {"user_id": str(user_id)},
        "items": {"object": "list", "data": [{"current_period_end": int(time.time()) + 86400}]},
    }


def checkout_obj(user_id: int, customer: str, sub_id: str) -> dict[str, Any]:
    return {
        "id": f"cs_{sub_id}",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": str(user_id),
        "customer": customer,
        "subscription": sub_id,
    }


async def deliver(http: httpx.AsyncClient, event: dict[str, Any]) -> list[tuple[int, str]]:
    """Stripe's delivery: retried (up to 8 times) until a 2xx; every answer, in order."""
    payload = json.dumps(event).encode()
    answers = []
    for attempt in range(8):
        r = await http.post(
            "/webhooks/stripe",
            content=payload,
            headers={
                "Stripe-Signature": sign_payload(payload, WHSEC),
                "Content-Type": "application/json",
            },
        )
        outcome = r.json().get("outcome", "") if r.status_code == 200 else ""
        answers.append((r.status_code, str(outcome)))
        if r.status_code < 300:
            break
        await asyncio.sleep(0.2 * (attempt + 1))
    return answers


async def stripe_tie(http: httpx.AsyncClient, sessions: Any, users: dict[str, int]) -> dict:
    result = {}
    for order in ("deleted_first", "updated_first"):
        name = f"tie-{order}"
        user_id, customer, sub = users[name], f"cus_{name}", f"sub_{name}"
        now = int(time.time())
        created = make_event(
            "customer.subscription.created", sub_obj(sub, "active", customer, user_id), now
        )
        deleted = make_event(
            "customer.subscription.deleted", sub_obj(sub, "canceled", customer, user_id), now + 5
        )
        updated = make_event(
            "customer.subscription.updated", sub_obj(sub, "active", customer, user_id), now + 5
        )
        await deliver(http, created)
        access = await token(http, name)
        premium_before = (await analyze(http, access)).status_code
        for event in [deleted, updated] if order == "deleted_first" else [updated, deleted]:
            await deliver(http, event)
        premium_after = (await analyze(http, access)).status_code
        with sessions() as s:
            status = s.scalar(select(Subscription.status).where(Subscription.user_id == user_id))
            recorded = s.scalar(
                select(func.count()).where(
                    StripeEvent.id.in_([created["id"], deleted["id"], updated["id"]])
                )
            )
        result[order] = {
            "premium_route_before": premium_before,
            "premium_route_after": premium_after,
            "status": status,
            "events_recorded": recorded,
        }
        check(
            f"stripe tie ({order}): canceled, premium route 403, 3 events recorded",
            premium_before != 403
            and premium_after == 403
            and status == "canceled"
            and recorded == 3,
        )
    return result


async def analyze(http: httpx.AsyncClient, access: str) -> httpx.Response:
    """The premium route: 403 for a user without premium (any other answer passed the gate)."""
    return await http.post(
        "/api/analysis/analyze",
        json={
            "lineup_a": ["a1", "a2", "a3", "a4", "a5"],
            "lineup_b": ["b1", "b2", "b3", "b4", "b5"],
        },
        headers={"Authorization": f"Bearer {access}"},
    )


async def webhook_races(http: httpx.AsyncClient, sessions: Any, users: list[int]) -> dict:
    events = []
    for user_id in users:
        customer, sub = f"cus_race{user_id}", f"sub_race{user_id}"
        now = int(time.time())
        events.append(
            make_event("checkout.session.completed", checkout_obj(user_id, customer, sub), now)
        )
        events.append(
            make_event(
                "customer.subscription.created", sub_obj(sub, "active", customer, user_id), now
            )
        )
        events += [
            make_event(
                "customer.subscription.updated", sub_obj(sub, "active", customer, user_id), now + k
            )
            for k in range(1, 11)
        ]
    answers = await asyncio.gather(*(deliver(http, e) for e in events))
    statuses = Counter(status for a in answers for status, _ in a)
    outcomes = Counter(outcome for a in answers for status, outcome in a if status == 200)
    gave_up = sum(a[-1][0] >= 300 for a in answers)
    with sessions() as s:
        recorded = s.scalar(
            select(func.count()).where(StripeEvent.id.in_([e["id"] for e in events]))
        )
        rows = dict(
            s.execute(
                select(Subscription.user_id, Subscription.status).where(
                    Subscription.user_id.in_(users)
                )
            ).all()
        )
    not_active = sum(rows.get(u) != "active" for u in users)
    check(
        f"{len(events)} concurrent webhooks, {len(users)} new subscribers: all recorded, active",
        recorded == len(events) and not_active == 0 and gave_up == 0,
    )
    return {
        "events": len(events),
        "answers": {str(k): v for k, v in sorted(statuses.items())},
        "outcomes": dict(outcomes),
        "recorded": recorded,
        "users_not_active": not_active,
        "deliveries_given_up": gave_up,
    }


# 4 ---------------------------------------------------------------------------------------------
async def random_methods(http: httpx.AsyncClient, pid: int, count: int) -> dict[str, Any]:
    """A warm-up of 500 random requests first (it creates the closed set of series: the label
    for any other method, the statuses such requests get), then ``count`` more: the second
    part must not grow /metrics (the defect grew it in proportion to the requests)."""
    rng = random.Random(16)
    paths = ["/", "/healthz", "/api/players/x", "/api/auth/login", "/nowhere"]
    semaphore = asyncio.Semaphore(32)

    async def one() -> int | str:
        method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))
        path = rng.choice(paths) + ("" if rng.random() < 0.5 else f"/{rng.randrange(10**9)}")
        async with semaphore:
            try:
                return (await http.request(method, path)).status_code
            except httpx.TransportError as exc:
                return type(exc).__name__

    cold_size = len((await http.get("/metrics")).content)
    await asyncio.gather(*(one() for _ in range(500)))
    before_size = len((await http.get("/metrics")).content)
    before_rss = rss_kib(pid)
    statuses = Counter(await asyncio.gather(*(one() for _ in range(count))))
    text = (await http.get("/metrics")).text
    after_size = len(text.encode())
    after_rss = rss_kib(pid)
    ratio = after_size / before_size
    series = sum(
        1 for line in text.splitlines() if line.startswith("faceit_ai_api_requests_total{")
    )
    check(f"{count} random-method requests: /metrics grows < 1%", ratio < 1.01)
    return {
        "requests": count,
        "answers": {str(k): v for k, v in sorted(statuses.items())},
        "metrics_bytes_cold": cold_size,
        "metrics_bytes_before": before_size,
        "metrics_bytes_after": after_size,
        "metrics_size_ratio": round(ratio, 4),
        "request_series": series,
        "rss_kib_before": before_rss,
        "rss_kib_after": after_rss,
    }


# 5 ---------------------------------------------------------------------------------------------
async def nul_everywhere(http: httpx.AsyncClient, access: str) -> dict[str, Any]:
    document = (await http.get("/openapi.json")).json()
    fields = text_fields(document)
    statuses: Counter[int] = Counter()
    not_422 = []
    for field in fields:
        method, url, kwargs = request_with(field, "ab\x00cd")
        r = await http.request(method, url, headers={"Authorization": f"Bearer {access}"}, **kwargs)
        statuses[r.status_code] += 1
        if r.status_code != 422:
            not_422.append(f"{method} {field.path} {field.where}:{field.name} -> {r.status_code}")
    check(f"NUL in each of {len(fields)} text fields: 422", not not_422)
    return {
        "fields": len(fields),
        "answers": {str(k): v for k, v in statuses.items()},
        "not_422": not_422,
    }


# 6 ---------------------------------------------------------------------------------------------
async def healthz_ms(http: httpx.AsyncClient, probes: int = 20) -> float:
    worst = 0.0
    for _ in range(probes):
        t0 = time.perf_counter()
        r = await http.get("/healthz", timeout=5)
        worst = max(worst, time.perf_counter() - t0)
        assert r.status_code == 200
    return round(worst * 1000, 1)


async def database_outages(
    http: httpx.AsyncClient, cluster: PrivateCluster, access: str, refresh: str
) -> dict:
    headers = {"Authorization": f"Bearer {access}"}
    healthy_ms = await healthz_ms(http)
    cluster.stop()
    try:
        answers = []
        for i in range(20):
            answers += [
                await http.get(f"/api/players/p{i}", headers=headers),
                await http.get(f"/api/players/p{i}/matches", headers=headers),
                await http.post(
                    "/api/auth/login", json={"username": "outage", "password": PASSWORD}
                ),
                await http.post("/api/auth/refresh", json={"refresh_token": refresh}),
            ]
        stopped_ms = await healthz_ms(http)
        stopped = Counter(r.status_code for r in answers)
        retry_after = sum(
            is_problem(r, 503) and int(r.headers.get("retry-after", "0")) >= 1 for r in answers
        )
    finally:
        cluster.start()
    recovered = (await http.get("/api/players/nobody", headers=headers)).status_code
    check(
        "PostgreSQL stopped: every database route 503 problem+json with Retry-After",
        retry_after == len(answers),
    )
    check("PostgreSQL stopped: /healthz < 1 s", stopped_ms < 1000)
    check("PostgreSQL started again: the same process serves", recovered == 404)

    # another user: the per-user rate limit (API_RATE_LIMIT_USER) is not what this measures
    access = await token(http, "frozen")
    headers = {"Authorization": f"Bearer {access}"}
    await asyncio.gather(*(http.get(f"/api/players/warm{i}", headers=headers) for i in range(10)))
    pids = cluster.freeze()
    try:
        t0 = time.perf_counter()
        in_flight = [
            asyncio.create_task(http.get(f"/api/players/f{i}", headers=headers, timeout=120))
            for i in range(56)
        ]
        in_flight += [
            asyncio.create_task(
                http.post(
                    "/api/auth/login",
                    json={"username": "frozen", "password": PASSWORD},
                    timeout=120,
                )
            )
            for _ in range(4)
        ]
        await asyncio.sleep(0.3)
        frozen_ms = await healthz_ms(http, 10)
        done, pending = await asyncio.wait(in_flight, timeout=60)
        answered_s = round(time.perf_counter() - t0, 2)
        results = [t.exception() or t.result() for t in done]
        frozen = Counter(
            r.status_code if isinstance(r, httpx.Response) else type(r).__name__ for r in results
        )
        frozen_503 = sum(
            isinstance(r, httpx.Response) and is_problem(r, 503) and "retry-after" in r.headers
            for r in results
        )
    finally:
        cluster.thaw(pids)
    if pending:
        await asyncio.wait(pending)
    thawed = (await http.get("/api/players/nobody", headers=headers)).status_code
    check("PostgreSQL frozen: 60 in-flight requests answered 503 + Retry-After before the thaw",
          not pending and frozen_503 == len(in_flight))  # fmt: skip
    check("PostgreSQL frozen: /healthz < 1 s", frozen_ms < 1000)
    check("PostgreSQL thawed: the same process serves", thawed == 404)
    return {
        "stopped": {
            "answers": {str(k): v for k, v in stopped.items()},
            "with_retry_after": retry_after,
            "healthz_worst_ms": stopped_ms,
            "healthz_healthy_worst_ms": healthy_ms,
            "recovered_status": recovered,
        },
        "frozen": {
            "in_flight": len(in_flight),
            "answered_before_thaw": len(done),
            "answers": {str(k): v for k, v in frozen.items()},
            "all_answered_after_s": answered_s,
            "healthz_worst_ms": frozen_ms,
            "thawed_status": thawed,
        },
    }


# 7 ---------------------------------------------------------------------------------------------
async def redis_outage(
    http: httpx.AsyncClient, redis_proc: Any, redis_port: int
) -> tuple[dict, Any]:
    access = await token(http, "limited")
    stop_redis(redis_proc)
    try:
        statuses = Counter()
        for _ in range(3 * USER_LIMIT):
            r = await http.get("/api/players/nobody", headers={"Authorization": f"Bearer {access}"})
            statuses[r.status_code] += 1
        ready = (await http.get("/readyz")).json().get("status")
    finally:
        redis_proc = start_redis(redis_port)
    served = statuses[404] + statuses[200]
    check(
        f"Redis stopped: one user served <= {USER_LIMIT} of {3 * USER_LIMIT}", served <= USER_LIMIT
    )
    check("Redis stopped: /readyz says degraded", ready == "degraded")
    return {
        "requests": 3 * USER_LIMIT,
        "answers": {str(k): v for k, v in statuses.items()},
        "served": served,
        "limit": USER_LIMIT,
        "readyz": ready,
    }, redis_proc


async def attack(
    args: argparse.Namespace,
    port: int,
    pid: int,
    cluster: PrivateCluster,
    sessions: Any,
    ids: dict[str, int],
    redis: Any,
    redis_port: int,
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits
    ) as http:
        print("1. login bursts")
        figures["login_burst"] = await login_bursts(http)
        print("2. same-second Stripe tie")
        figures["stripe_tie"] = await stripe_tie(http, sessions, ids)
        print("3. concurrent webhooks")
        race_users = [ids[f"race-{n}"] for n in range(args.races)]
        figures["webhook_races"] = await webhook_races(http, sessions, race_users)
        print("4. random methods")
        figures["random_methods"] = await random_methods(http, pid, args.random_requests)
        print("5. NUL in every text field")
        figures["nul"] = await nul_everywhere(http, await token(http, "premium"))
        print("6. database stopped, then frozen")
        login = (
            await http.post("/api/auth/login", json={"username": "outage", "password": PASSWORD})
        ).json()
        figures["database"] = await database_outages(
            http, cluster, login["access_token"], login["refresh_token"]
        )
        print("7. Redis stopped")
        figures["redis"], redis = await redis_outage(http, redis, redis_port)
    figures["_redis"] = redis
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--random-requests", type=int, default=5000)
    parser.add_argument("--races", type=int, default=10)
    args = parser.parse_args()
    cluster = create_cluster()
    redis_port = free_port()
    redis = start_redis(redis_port)
    api = None
    try:
        engine = make_engine(cluster.url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        ids: dict[str, int] = {}
        names = [f"burst-{n}" for n in range(5)]
        auth.BCRYPT_ROUNDS = 10  # so the checks of a burst overlap in time, as in production
        with sessions() as s:
            for name in names:
                ids[name] = auth.register_user(s, name, f"{name}@example.com", PASSWORD).id
        auth.BCRYPT_ROUNDS = 4
        with sessions() as s:
            for name in [
                "tie-deleted_first",
                "tie-updated_first",
                "outage",
                "frozen",
                "limited",
            ] + [f"race-{n}" for n in range(args.races)]:
                ids[name] = auth.register_user(s, name, f"{name}@example.com", PASSWORD).id
            auth.register_user(s, "premium", "premium@example.com", PASSWORD, "premium")
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "ENVIRONMENT": "test",
                "DATA_DIR": tmp,
                "DATABASE_URL": cluster.url,
                "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                "SECRET_KEY": "attack-bench-" + "k" * 40,
                "STRIPE_SECRET_KEY": "sk_test_attack_bench",  # a real-Stripe set-up (never called)
                "STRIPE_WEBHOOK_SECRET": WHSEC,
                "STRIPE_PRICE_ID": "price_attack_bench",
                "LOGIN_MAX_FAILURES": str(LOGIN_LIMIT),
                "API_RATE_LIMIT_USER": f"{USER_LIMIT}/minute",
                "API_RATE_LIMIT_IP": "1000000/minute",
                "API_LOG_REQUESTS": "false",
                "DATABASE_STATEMENT_TIMEOUT_SECONDS": "2",
                "DATABASE_RESPONSE_TIMEOUT_SECONDS": "3",
                "DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
                "DATABASE_POOL_TIMEOUT_SECONDS": "2",
            }
            log = Path(tmp) / "api.log"
            api = start_api(env, log, port)
            t0 = time.perf_counter()
            figures = asyncio.run(
                attack(args, port, api.pid, cluster, sessions, ids, redis, redis_port)
            )
            redis = figures.pop("_redis")
            figures["seconds"] = round(time.perf_counter() - t0, 1)
            text = log.read_text()
            figures["api_log_tracebacks"] = text.count("Traceback")
            figures["api_alive"] = api.poll() is None
            if not all(checks.values()):
                print(f"the API's log, last lines:\n{text[-3000:]}", file=sys.stderr)
            api.terminate()
            api.wait(timeout=10)
            api = None
        engine.dispose()
    finally:
        if api is not None:
            api.kill()
        stop_redis(redis)
        cluster.drop()
    figures["load"] = Path("/proc/loadavg").read_text().split()[:3]
    figures["ok"] = all(checks.values())
    figures["failed"] = [name for name, held in checks.items() if not held]
    print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()
