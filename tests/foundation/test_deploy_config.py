"""Deployment and monitoring files stay in step with the code they run and observe."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest

from api.metrics import api_metrics
from core.cache import FeatureCache
from models.live import Outcome
from pipelines.cli import app
from pipelines.live import WorkerMetrics
from pipelines.stack_services import FlowMetrics

REPO = Path(__file__).resolve().parents[2]
METRIC = re.compile(r"\bfaceit_ai_[a-z_]+")


def exported_metric_names() -> set[str]:
    registry = CollectorRegistry()
    metrics = api_metrics(registry)
    metrics.requests.labels("GET", "/healthz", "200").inc()
    metrics.latency.labels("GET", "/healthz", "200").observe(0.01)
    metrics.model_version.labels("match_outcome").set(1)
    metrics.rate_limited.labels("ip").inc()
    frame = pl.DataFrame({"x": [1]})
    for url in (None, "redis://127.0.0.1:1/0"):  # in-process (miss, hit) and unreachable (error)
        cache = FeatureCache(url, registry=registry, socket_timeout=0.05)
        for _ in range(2):
            cache.get_or_compute("summary", "1", "p", None, lambda: frame)
    flows = FlowMetrics("http://127.0.0.1:1/api", "faceit-ai")  # the stack's flow exporter
    flows.workers.labels("faceit-ai").set(2)
    flows.runs.labels("sync-players", "failed").set(1)
    live = WorkerMetrics()  # the live worker's /metrics
    live.polled([Outcome("match_status_ready", "m", "ready")])
    text = "".join(generate_latest(r).decode() for r in (registry, flows.registry, live.registry))
    return {
        line.split("{")[0].split(" ")[0]
        for line in text.splitlines()
        if line.startswith("faceit_ai_")
    }


def cli_commands() -> set[str]:
    names = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    return names | {g.name for g in app.registered_groups if g.name}


def test_compose_runs_only_commands_the_cli_has() -> None:
    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.yml").read_text())
    commands = cli_commands()
    used = [
        s["command"][1]
        for s in compose["services"].values()
        if isinstance(s.get("command"), list) and s["command"][0] == "faceit-ai"
    ]
    assert used and set(used) <= commands, (used, commands)
    assert {"postgres", "redis", "app", "api", "prometheus", "grafana"} <= set(compose["services"])


def test_alerts_and_dashboard_use_metrics_the_code_exports() -> None:
    exported = exported_metric_names()
    rules = yaml.safe_load((REPO / "monitoring" / "alerts.yml").read_text())
    expressions = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    dashboard = json.loads(
        (REPO / "monitoring" / "grafana" / "dashboards" / "faceit-ai.json").read_text()
    )
    expressions += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in expressions for m in METRIC.findall(e)}
    assert used, "no metric referenced"
    assert used <= exported, sorted(used - exported)


def test_compose_and_the_stack_run_the_same_services_and_scrape_the_same_jobs() -> None:
    from core.settings import load_settings
    from pipelines.stack import StackOptions, programs, render_prometheus

    settings = load_settings(
        _env_file=None, database_url="postgresql://u@127.0.0.1/db", redis_url="redis://x:1/0"
    )
    options = StackOptions()
    stack_jobs = {j["job_name"] for j in yaml.safe_load(render_prometheus(options, False))[
        "scrape_configs"
    ]}  # fmt: skip
    compose_prometheus = yaml.safe_load((REPO / "monitoring" / "prometheus.yml").read_text())
    assert {j["job_name"] for j in compose_prometheus["scrape_configs"]} == stack_jobs
    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.yml").read_text())
    services = set(compose["services"])
    names = {p.name.rstrip("-0123456789") for p in programs(options, settings)}
    assert names - {"demo-faceit"} <= services | {"api", "worker"}, names - services
    assert {"nginx", "prefect-server", "worker", "flow-metrics", "deploy-flows"} <= services
    assert "live-worker" in names and "live-worker" in services
    live = compose["services"]["live-worker"]
    assert live["command"] == ["faceit-ai", "live-worker"]
    assert live["environment"]["LIVE_METRICS_PORT"] in " ".join(live["healthcheck"]["test"])


def logged_event() -> dict[str, object]:
    """One event as core.logs writes it, while a request is served."""
    import logging

    from core.logs import JsonFormatter, reset_request_id, set_request_id

    token = set_request_id("req-1")
    try:
        record = logging.makeLogRecord(
            {"name": "api.access", "levelno": logging.ERROR, "levelname": "ERROR", "msg": "boom"}
        )
        return json.loads(JsonFormatter(service="api").format(record))
    finally:
        reset_request_id(token)


LOKI_SELECTOR = re.compile(r"\{([^}]*)\}")
LOKI_FILTER = re.compile(r"\|\s*([a-z_]+)\s*=~?")


def test_promtail_and_the_log_panels_read_the_fields_the_code_logs() -> None:
    from datetime import datetime

    event = logged_event()
    promtail = yaml.safe_load((REPO / "monitoring" / "loki" / "promtail.yml").read_text())
    stages = {k: v for s in promtail["scrape_configs"][0]["pipeline_stages"] for k, v in s.items()}
    assert set(stages["json"]["expressions"].values()) <= set(event), event
    # index labels stay low-cardinality; the request id is searchable metadata, not a label
    labels, metadata = set(stages["labels"]), set(stages["structured_metadata"])
    assert labels == {"service", "level"} and "request_id" in metadata
    assert stages["timestamp"]["source"] == "ts"
    assert datetime.fromisoformat(str(event["ts"])).utcoffset() is not None  # RFC 3339

    dashboard = json.loads(
        (REPO / "monitoring" / "grafana" / "dashboards" / "faceit-ai.json").read_text()
    )
    log_panels = [p for p in dashboard["panels"] if p["datasource"] == "Loki"]
    queries = [t["expr"] for p in log_panels for t in p["targets"]]
    assert queries, "no log panel"
    for query in queries:
        for selector in LOKI_SELECTOR.findall(query):
            names = {m.split("=")[0].strip() for m in selector.split(",")}
            assert names <= labels, (query, names - labels)
        assert set(LOKI_FILTER.findall(query)) <= labels | metadata, query
    assert event["level"] == "error" and any('level=~"error' in q for q in queries)

    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.yml").read_text())["services"]
    mounts = " ".join(compose["loki"]["volumes"] + compose["promtail"]["volumes"])
    assert "monitoring/loki/loki.yml" in mounts and "monitoring/loki/promtail.yml" in mounts


def compose_command() -> list[str]:
    """The Compose CLI: the Docker plugin where there is one, else Debian's docker-compose."""
    import shutil
    import subprocess

    if shutil.which("docker"):
        plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if plugin.returncode == 0:
            return ["docker", "compose"]
    found = shutil.which("docker-compose")
    assert found, "no Compose CLI: apt-get install docker-compose (.ci/run does)"
    return [found]


def test_compose_file_is_valid_for_compose_itself() -> None:
    import subprocess

    result = subprocess.run(
        [*compose_command(), "--project-directory", str(REPO / "deploy"),
         "-f", str(REPO / "deploy" / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout


def test_nginx_config_renders_valid_and_every_location_keeps_the_proxy_headers(
    tmp_path: Path,
) -> None:
    """``nginx -t`` accepts the stack's rendered config, and no location sets a proxy header of
    its own: nginx would then drop the server's X-Forwarded-For and X-Request-ID there (the API's
    per-address limits would see only nginx, its logs other ids than nginx's)."""
    import shutil
    import subprocess

    from pipelines.stack import StackOptions, ensure_certificate, render_nginx

    options = StackOptions(directory=tmp_path)
    for sub in ("logs", "nginx-tmp"):
        (tmp_path / sub).mkdir()
    cert, key = ensure_certificate(tmp_path)
    rendered = render_nginx(options, cert, key)
    (tmp_path / "nginx.conf").write_text(rendered)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    check = subprocess.run(
        [nginx, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    server = rendered.split(f"listen 127.0.0.1:{options.ports.https} ssl", 1)[1]
    locations = re.findall(r"location\s+(\S+)\s*\{([^}]*)\}", server)
    assert {path for path, _ in locations} == {"/api/", "/webhooks/", "/"}
    for path, body in locations:
        assert "proxy_set_header" not in body, path
    preamble = re.split(r"\n\s*location\s", server, maxsplit=1)[0]
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Request-ID", "Upgrade", "Connection"):
        assert f"proxy_set_header {header} " in preamble, header


def test_compose_mounts_every_secret_setting_the_services_use_as_a_file() -> None:
    """Each process's secrets come as files (SECRETS_DIR): the FACEIT key too, or the workers
    could sync nothing in production. Every mounted secret fills a setting of that name."""
    from pydantic import SecretStr

    from core.settings import Settings

    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.yml").read_text())
    mounted = set(compose["services"]["api"]["secrets"])
    assert mounted == set(compose["services"]["worker"]["secrets"])
    secret_settings = {
        name
        for name, field in Settings.model_fields.items()
        if field.annotation in (SecretStr, SecretStr | None)
    }
    assert {"faceit_api_key", "secret_key", "stripe_secret_key", "sentry_dsn"} <= secret_settings
    # the one-value secrets every deployment sets (the notification keys are optional lists)
    assert secret_settings - {"notify_smtp_password"} <= mounted, secret_settings - mounted
    assert mounted - {"database_url"} <= set(Settings.model_fields), mounted
    for name in mounted:
        assert compose["secrets"][name] == {"file": f"./secrets/{name}"}


def issued_certificate(
    directory: Path, *, days: int = 90, name: str = "faceit.example"
) -> tuple[Path, Path]:
    """A certificate for ``name`` issued by a CA of its own (as a real one is), and its key."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=max(1, -days) + 1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}-{days}.crt", directory / f"{name}-{days}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_the_stack_serves_the_operators_certificate_and_refuses_a_wrong_pair(
    tmp_path: Path,
) -> None:
    import shutil
    import subprocess

    from pipelines.stack import StackError, StackOptions, render_nginx, tls_files

    cert, key = issued_certificate(tmp_path)
    options = StackOptions(directory=tmp_path / "stack", tls_cert=cert, tls_key=key)
    assert tls_files(options, options.directory) == (cert.resolve(), key.resolve())
    assert not (options.directory / "tls").exists(), "no self-signed pair is made beside it"
    for sub in ("logs", "nginx-tmp"):
        (options.directory / sub).mkdir(parents=True)
    conf = options.directory / "nginx.conf"
    conf.write_text(render_nginx(options, cert, key))
    assert f"ssl_certificate {cert.resolve()};" in conf.read_text()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    check = subprocess.run(
        [nginx, "-t", "-e", "stderr", "-p", str(options.directory), "-c", str(conf)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr

    other_cert, other_key = issued_certificate(tmp_path, name="other.example")
    expired_cert, expired_key = issued_certificate(tmp_path, days=-1)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n")
    refused = {
        "set both TLS_CERT_FILE and TLS_KEY_FILE": (cert, None),
        "is not the private key of the certificate": (cert, other_key),
        "expired on": (expired_cert, expired_key),
        "is not a PEM certificate": (garbage, key),
        "is not an unencrypted PEM private key": (cert, garbage),
        "No such file or directory": (tmp_path / "missing.crt", key),
    }
    for message, (c, k) in refused.items():
        options = StackOptions(directory=tmp_path / "refused", tls_cert=c, tls_key=k)
        with pytest.raises(StackError, match=message):
            tls_files(options, options.directory)
    assert other_cert.exists()
