"""``faceit-ai stack``: the production topology on one machine, from real components, on loopback.

    nginx (TLS, limits) -> / Streamlit app | /api/, /webhooks/ -> API x N (uvicorn)
    Prefect server (PostgreSQL, its own database) -> process work pool -> workers x N
    live worker: the FACEIT webhook queue the API fills -> live matches, predictions, results
    Prometheus -> every /metrics -> Alertmanager;  JSON logs;  errors -> Sentry (SENTRY_DSN)

One process manager, supervisord: it keeps every other program running when one dies (honcho
stops the whole Procfile when one process exits, so "an API instance dies, the other keeps
answering" could not even be shown with it), restarts crashed programs, stops one program on
demand (``supervisorctl stop api-2``), and kills whole process groups on shutdown, so the
workers' flow-run subprocesses go too. Its configuration is rendered into the stack's folder
(``--dir``, default data/stack) with nginx's, Prometheus' and Alertmanager's.

Without FACEIT_API_KEY the stack serves the demo league as a FACEIT API of its own (one HTTP
process, the key's rate limit enforced) so that every worker shares one API, as with the real one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.settings import Settings

REPO = Path(__file__).resolve().parents[1]
NGINX_TEMPLATE = REPO / "deploy" / "nginx" / "faceit-ai.conf"
ALERT_RULES = REPO / "monitoring" / "alerts.yml"
ALERTMANAGER_CONFIG = REPO / "monitoring" / "alertmanager.yml"
APP_ENTRY = REPO / "app" / "server.py"  # st.App: the pages of app/main.py + the cookie route
BINARIES = {
    "nginx": "nginx",
    "prometheus": "prometheus",
    "alertmanager": "prometheus-alertmanager",
}
STACK_MARK = "FACEIT_AI_STACK_DIR"  # in every program's environment: how leftovers are found


class StackError(RuntimeError):
    """The stack cannot start; the message says what is missing."""


@dataclass
class StackPorts:
    """Every port of the stack, from one base: ``base`` is HTTPS, the rest follow it."""

    base: int = 8443
    api_instances: int = 2

    @property
    def https(self) -> int:
        return self.base

    @property
    def http(self) -> int:
        return self.base + 1

    @property
    def app(self) -> int:
        return self.base + 2

    @property
    def app_metrics(self) -> int:
        return self.base + 3

    @property
    def prefect(self) -> int:
        return self.base + 4

    @property
    def prometheus(self) -> int:
        return self.base + 5

    @property
    def alertmanager(self) -> int:
        return self.base + 6

    @property
    def demo_faceit(self) -> int:
        return self.base + 7

    @property
    def flow_metrics(self) -> int:
        return self.base + 8

    @property
    def live_metrics(self) -> int:
        return self.base + 9

    @property
    def api(self) -> list[int]:
        return [self.base + 10 + i for i in range(self.api_instances)]


@dataclass
class StackOptions:
    directory: Path = Path("data/stack")
    ports: StackPorts = field(default_factory=StackPorts)
    workers: int = 2
    worker_limit: int = 2  # flow runs at once per worker
    pool: str = "faceit-ai"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    api_rate: int = 50  # nginx: requests/s per client address on /api/ and /webhooks/
    api_burst: int | None = None  # requests past the rate let through at once (None: 2 x rate)
    site_rate: int = 100
    scrape_interval: str = "15s"
    worker_poll_seconds: float = 5.0
    # pin worker i (and its flow runs) to CPU i-1 (taskset): one core per worker, as in bench/scale
    pin_workers: bool = False
    schedules: bool = True  # deploy with TRAIN_CRON / SYNC_CRON (False: runs only when triggered)


@dataclass
class Program:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    priority: int = 500


# -- preparation ----------------------------------------------------------------------------------


def check_requirements(settings: Settings) -> None:
    missing = [pkg for binary, pkg in BINARIES.items() if shutil.which(pkg) is None]
    if missing:
        raise StackError(
            "missing programs: "
            + ", ".join(missing)
            + " (Debian: apt-get install nginx prometheus prometheus-alertmanager)"
        )
    if settings.database_kind != "PostgreSQL":
        raise StackError("the stack runs on PostgreSQL: set DATABASE_URL=postgresql://...")
    if not settings.redis_url:
        raise StackError(
            "the stack shares caches and the FACEIT rate limit in Redis: set REDIS_URL"
        )


def prefect_database_url(settings: Settings) -> str:
    """The Prefect server's own database, next to the app's: ``<database>_prefect``, asyncpg."""
    url = make_url(settings.effective_database_url)
    return url.set(
        drivername="postgresql+asyncpg", database=f"{url.database}_prefect"
    ).render_as_string(hide_password=False)


def ensure_database(async_url: str) -> None:
    """Create the database of ``async_url`` when it does not exist yet."""
    url = make_url(async_url)
    admin = create_engine(
        url.set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def tls_files(options: StackOptions, directory: Path) -> tuple[Path, Path]:
    """The certificate and key nginx serves: the operator's (TLS_CERT_FILE and TLS_KEY_FILE,
    both or neither), checked before anything starts, or a self-signed pair made on first
    start."""
    given = options.tls_cert, options.tls_key
    if given == (None, None):
        return ensure_certificate(directory)
    if None in given:
        raise StackError(
            "set both TLS_CERT_FILE and TLS_KEY_FILE (--tls-cert, --tls-key), or neither"
        )
    cert, key = (path.resolve() for path in given if path is not None)
    check_certificate(cert, key)
    return cert, key


def check_certificate(cert: Path, key: Path) -> None:
    """A clear StackError unless ``cert`` is a PEM certificate, still valid, and ``key`` its
    private key (nginx would otherwise refuse to start, or serve an expired certificate)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    except OSError as exc:
        raise StackError(f"TLS certificate {cert}: {exc.strerror}") from exc
    except ValueError as exc:
        raise StackError(f"TLS certificate {cert} is not a PEM certificate") from exc
    try:
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except OSError as exc:
        raise StackError(f"TLS key {key}: {exc.strerror}") from exc
    except (ValueError, TypeError) as exc:
        raise StackError(f"TLS key {key} is not an unencrypted PEM private key") from exc
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if private.public_key().public_bytes(
        serialization.Encoding.PEM, public
    ) != certificate.public_key().public_bytes(serialization.Encoding.PEM, public):
        raise StackError(f"TLS key {key} is not the private key of the certificate {cert}")
    if certificate.not_valid_after_utc <= dt.datetime.now(dt.UTC):
        raise StackError(
            f"TLS certificate {cert} expired on {certificate.not_valid_after_utc:%Y-%m-%d}"
        )


def ensure_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made on first start (kept after)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path, key_path = directory / "tls" / "cert.pem", directory / "tls" / "key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "faceit-ai local stack")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


# -- configuration files --------------------------------------------------------------------------


def render_nginx(options: StackOptions, cert: Path, key: Path) -> str:
    ports = options.ports
    directory = options.directory.resolve()
    user = ""
    if os.geteuid() == 0:  # the workers run as this user too, so they can use the temp folders
        user = f"user {pwd.getpwuid(0).pw_name};"
    values = {
        "USER": user,
        "DIR": str(directory),
        "MIME_TYPES": "/etc/nginx/mime.types",
        "ACCESS_LOG": f"{directory / 'logs' / 'nginx-access.log'} json",
        "API_RATE": str(options.api_rate),
        "API_BURST": str(options.api_rate * 2 if options.api_burst is None else options.api_burst),
        "SITE_RATE": str(options.site_rate),
        "SITE_BURST": str(options.site_rate * 2),
        "MAX_CONNS": "200",
        "API_SERVERS": "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports.api
        ),
        "APP_PORT": str(ports.app),
        "HTTP_PORT": str(ports.http),
        "HTTPS_PORT": str(ports.https),
        "CERT": str(cert),
        "KEY": str(key),
    }
    rendered = NGINX_TEMPLATE.read_text()
    for name, value in values.items():
        rendered = rendered.replace(f"@{name}@", value)
    return rendered


def render_prometheus(options: StackOptions, demo_faceit: bool) -> str:
    ports = options.ports

    def job(name: str, targets: list[int], path: str = "/metrics") -> dict[str, Any]:
        return {
            "job_name": name,
            "metrics_path": path,
            "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in targets]}],
        }

    jobs = [
        job("faceit-ai-api", ports.api),
        job("faceit-ai-app", [ports.app_metrics]),
        job("faceit-ai-flows", [ports.flow_metrics]),
        job("faceit-ai-live", [ports.live_metrics]),
        job("prefect-server", [ports.prefect], "/api/metrics"),
        job("prometheus", [ports.prometheus]),
        job("alertmanager", [ports.alertmanager]),
    ]
    if demo_faceit:
        jobs.append(job("faceit-ai-demo-faceit", [ports.demo_faceit]))
    alertmanager = f"127.0.0.1:{ports.alertmanager}"
    config = {
        "global": {
            "scrape_interval": options.scrape_interval,
            "evaluation_interval": options.scrape_interval,
        },
        "rule_files": [str(ALERT_RULES)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": jobs,
    }
    return yaml.safe_dump(config, sort_keys=False)


def render_supervisord(options: StackOptions, programs: list[Program]) -> str:
    directory = options.directory.resolve()
    logs = directory / "logs"
    lines = [
        "[supervisord]",
        "nodaemon=true",
        f"logfile={logs / 'supervisord.log'}",
        f"pidfile={directory / 'supervisord.pid'}",
        f"childlogdir={logs}",
        "loglevel=info",
        "",
        "[unix_http_server]",
        f"file={directory / 'supervisor.sock'}",
        "chmod=0700",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{directory / 'supervisor.sock'}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
    ]
    for program in programs:
        env = ",".join(f'{k}="{_supervisor_escape(v)}"' for k, v in program.env.items())
        lines += [
            f"[program:{program.name}]",
            "command=" + " ".join(_supervisor_quote(part) for part in program.command),
            f"directory={REPO}",
            f"priority={program.priority}",
            "autostart=true",
            "autorestart=true",
            "startsecs=2",
            "startretries=20",
            "stopsignal=TERM",
            "stopwaitsecs=15",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={logs / (program.name + '.log')}",
            "stdout_logfile_maxbytes=20MB",
        ]
        if env:
            lines.append(f"environment={env}")
        lines.append("")
    return "\n".join(lines)


def _supervisor_escape(value: str) -> str:
    return value.replace("%", "%%").replace('"', '\\"')


def _supervisor_quote(part: str) -> str:
    part = part.replace("%", "%%")
    return f'"{part}"' if any(c in part for c in " \t;#") else part


# -- programs -------------------------------------------------------------------------------------


def prefect_bin() -> str:
    candidate = Path(sys.executable).with_name("prefect")
    return str(candidate) if candidate.exists() else "prefect"


def programs(options: StackOptions, settings: Settings) -> list[Program]:
    ports = options.ports
    directory = options.directory.resolve()
    python = sys.executable
    out = [
        Program(
            "prefect-server",
            [prefect_bin(), "server", "start", "--host", "127.0.0.1", "--port", str(ports.prefect)],
            {"PREFECT_API_DATABASE_CONNECTION_URL": prefect_database_url(settings)},
            priority=100,
        ),
        Program(
            "flow-metrics",
            [
                python,
                "-m",
                "pipelines.stack_services",
                "flow-metrics",
                "--port",
                str(ports.flow_metrics),
                "--prefect-api",
                prefect_api_url(options),
                "--pool",
                options.pool,
            ],
            priority=300,
        ),
        Program(
            "app",
            [python, "-m", "pipelines.stack_services", "app", "--port", str(ports.app)],
            {"APP_METRICS_PORT": str(ports.app_metrics)},
            priority=400,
        ),
        Program(
            "nginx",
            [
                shutil.which("nginx") or "nginx",
                "-e",
                "stderr",
                "-p",
                str(directory),
                "-c",
                str(directory / "nginx.conf"),
                "-g",
                "daemon off;",
            ],
            priority=600,
        ),
        Program(
            "prometheus",
            [
                shutil.which("prometheus") or "prometheus",
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{ports.prometheus}",
            ],
            priority=700,
        ),
        Program(
            "alertmanager",
            [
                shutil.which("prometheus-alertmanager") or "prometheus-alertmanager",
                f"--config.file={directory / 'alertmanager.yml'}",
                f"--storage.path={directory / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{ports.alertmanager}",
                "--cluster.listen-address=",
            ],
            priority=700,
        ),
    ]
    if settings.uses_demo_league:
        out.append(
            Program(
                "demo-faceit",
                [
                    python,
                    "-m",
                    "pipelines.stack_services",
                    "demo-faceit",
                    "--port",
                    str(ports.demo_faceit),
                    "--players",
                    str(settings.demo_players),
                    "--seed",
                    str(settings.demo_seed),
                    "--rate-limit",
                    str(settings.faceit_rate_limit),
                ],
                priority=200,
            ),
        )
    out.append(
        Program(
            "live-worker",
            [python, "-m", "pipelines.cli", "live-worker"],
            {"LIVE_METRICS_PORT": str(ports.live_metrics)},
            priority=400,
        )
    )
    for index, port in enumerate(ports.api, start=1):
        out.append(
            Program(
                f"api-{index}",
                [python, "-m", "pipelines.cli", "api", "--host", "127.0.0.1", "--port", str(port)],
                priority=400,
            )
        )
    cpus = os.cpu_count() or 1
    for index in range(1, options.workers + 1):
        pin = ["taskset", "-c", str((index - 1) % cpus)] if options.pin_workers else []
        out.append(
            Program(
                f"worker-{index}",
                [
                    *pin,
                    prefect_bin(),
                    "worker",
                    "start",
                    "--pool",
                    options.pool,
                    "--type",
                    "process",
                    "--name",
                    f"worker-{index}",
                    "--limit",
                    str(options.worker_limit),
                ],
                {"FACEIT_AI_WORKER": f"worker-{index}"},
                priority=500,
            ),
        )
    return out


def prefect_api_url(options: StackOptions) -> str:
    return f"http://127.0.0.1:{options.ports.prefect}/api"


def stack_environment(options: StackOptions, settings: Settings) -> dict[str, str]:
    """The environment every program of the stack shares (on top of this process' own)."""
    directory = options.directory.resolve()
    env = {
        STACK_MARK: str(directory),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": settings.effective_database_url,
        "REDIS_URL": settings.redis_url or "",
        "PREFECT_API_URL": prefect_api_url(options),
        "PREFECT_HOME": str(directory / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_METRICS_ENABLED": "true",
        "PREFECT_WORKER_QUERY_SECONDS": str(options.worker_poll_seconds),
        "PREFECT_WORKER_HEARTBEAT_SECONDS": "10",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
        # nginx is the proxy of the API and the app: its X-Forwarded-For names the client (the
        # API's per-address limits, both login throttles)
        "TRUSTED_PROXIES": '["127.0.0.1"]',
    }
    if settings.uses_demo_league:
        from core.sources import DEMO_API_KEY

        env["FACEIT_API_KEY"] = DEMO_API_KEY
        env["FACEIT_API_BASE"] = f"http://127.0.0.1:{options.ports.demo_faceit}/data/v4"
    return env


# -- running --------------------------------------------------------------------------------------


def wait_until(check: Any, what: str, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise StackError(f"supervisord exited while waiting for {what}")
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        if time.monotonic() > deadline:
            raise StackError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.5)


def http_ok(url: str) -> bool:
    return httpx.get(url, timeout=2.0, verify=False).is_success  # noqa: S501 (self-signed)


class Stack:
    """Render, start, deploy, stop. ``with Stack(options, settings) as stack: ...``."""

    def __init__(self, options: StackOptions, settings: Settings, *, log: Any = print) -> None:
        self.options = options
        self.settings = settings
        self.log = log
        self.directory = options.directory.resolve()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def urls(self) -> dict[str, str]:
        ports = self.options.ports
        return {
            "app": f"https://127.0.0.1:{ports.https}/",
            "api": f"https://127.0.0.1:{ports.https}/api/",
            "http": f"http://127.0.0.1:{ports.http}/",
            "prefect": f"http://127.0.0.1:{ports.prefect}/",
            "prometheus": f"http://127.0.0.1:{ports.prometheus}/",
            "live worker": f"http://127.0.0.1:{ports.live_metrics}/healthz",
            "alertmanager": f"http://127.0.0.1:{ports.alertmanager}/",
        }

    def environment(self) -> dict[str, str]:
        return {**os.environ, **stack_environment(self.options, self.settings)}

    def write_configs(self) -> list[Program]:
        check_requirements(self.settings)
        for sub in ("logs", "nginx-tmp", "prefect", "prometheus-data", "alertmanager-data"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        cert, key = tls_files(self.options, self.directory)
        (self.directory / "nginx.conf").write_text(render_nginx(self.options, cert, key))
        (self.directory / "prometheus.yml").write_text(
            render_prometheus(self.options, self.settings.uses_demo_league)
        )
        shutil.copyfile(ALERTMANAGER_CONFIG, self.directory / "alertmanager.yml")
        progs = programs(self.options, self.settings)
        (self.directory / "supervisord.conf").write_text(render_supervisord(self.options, progs))
        return progs

    def start(self, *, startup_timeout: float | None = None) -> None:
        """Start every program and deploy the flows; each part gets ``startup_timeout`` seconds
        (STACK_STARTUP_SECONDS, default 600: a loaded 2-core machine needs minutes)."""
        if startup_timeout is None:
            startup_timeout = float(os.environ.get("STACK_STARTUP_SECONDS", "600"))
        self.write_configs()
        ensure_database(prefect_database_url(self.settings))
        supervisord = Path(sys.executable).with_name("supervisord")
        self.process = subprocess.Popen(  # noqa: S603
            [str(supervisord), "-c", str(self.directory / "supervisord.conf")],
            env=self.environment(),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ports = self.options.ports
        try:
            wait_until(
                lambda: http_ok(f"http://127.0.0.1:{ports.prefect}/api/health"),
                "the Prefect server",
                startup_timeout,
                self.process,
            )
            self.deploy()
            for port in ports.api:
                wait_until(
                    lambda port=port: http_ok(f"http://127.0.0.1:{port}/healthz"),
                    f"the API on port {port}",
                    startup_timeout,
                    self.process,
                )
            wait_until(
                lambda: http_ok(f"https://127.0.0.1:{ports.https}/_stcore/health"),
                "the app through nginx",
                startup_timeout,
                self.process,
            )
            wait_until(
                lambda: http_ok(f"http://127.0.0.1:{ports.live_metrics}/healthz"),
                "the live worker",
                startup_timeout,
                self.process,
            )
            wait_until(
                lambda: http_ok(f"http://127.0.0.1:{ports.prometheus}/-/ready"),
                "Prometheus",
                startup_timeout,
                self.process,
            )
        except BaseException:
            self.stop()
            raise

    def deploy(self) -> None:
        result = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "pipelines.deployments",
                "deploy",
                "--pool",
                self.options.pool,
                *([] if self.options.schedules else ["--no-schedules"]),
            ],
            env=self.environment(),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"deploying the flows failed:\n{result.stdout}\n{result.stderr}")
        self.log(result.stdout.strip())

    def supervisorctl(self, *args: str) -> str:
        result = subprocess.run(  # noqa: S603
            [
                str(Path(sys.executable).with_name("supervisorctl")),
                "-c",
                str(self.directory / "supervisord.conf"),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return result.stdout + result.stderr

    def stop(self, timeout: float = 60.0) -> None:
        """Stop every program (supervisord stops them by process group), then any leftover."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for pid in self.leftovers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def leftovers(self) -> list[int]:
        """Processes still running with this stack's mark in their environment."""
        mark = f"{STACK_MARK}={self.directory}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if mark in environ.split(b"\0"):
                found.append(int(entry.name))
        return found

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
