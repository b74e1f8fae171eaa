"""A private PostgreSQL cluster (Debian's pg_createcluster) the tests can stop, start, freeze
and thaw, on a free port of tests.utils.ports; never the shared server. Dropped by ``drop``.

It is tuned for speed (no fsync: the tests crash PostgreSQL, never the machine) but keeps
synchronous commits, as production does: ``stop`` is a crash (``-m immediate``), and a commit
acknowledged before it must survive it. With ``synchronous_commit=off`` the last few hundred
milliseconds of acknowledged commits were lost in the crash (a user registered just before it
was gone after the restart).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.utils.ports import free_port


def _version() -> str:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: p.parts)
    if shutil.which("pg_createcluster") is None or not versions:
        raise RuntimeError(
            "the outage tests need a private PostgreSQL cluster: install postgresql-common "
            "(pg_createcluster) and a PostgreSQL server"
        )
    return versions[-1].parts[-3]


@dataclass
class PrivateCluster:
    version: str
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data_dir(self) -> Path:
        return Path("/var/lib/postgresql") / self.version / self.name

    def _ctl(self, action: str, *extra: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action,
             *extra],
            check=True,
            capture_output=True,
        )  # fmt: skip

    def start(self) -> None:
        self._ctl("start")
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        self._ctl("stop", "-m", "immediate")

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer, ...)."""
        postmaster = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                    children.append(int(entry.name))
        return [postmaster, *children]

    def freeze(self) -> list[int]:
        """SIGSTOP the postmaster and its children; a child that exited since it was listed (a
        backend whose client just closed) is skipped: the postmaster itself must be there."""
        postmaster, *children = self.processes()
        os.kill(postmaster, signal.SIGSTOP)
        frozen = [postmaster]
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
                frozen.append(pid)
        return frozen

    def thaw(self, pids: list[int]) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def drop(self) -> None:
        """Stop and remove the cluster; a frozen one (a test that failed before its thaw) is
        thawed first, or pg_dropcluster cannot stop it and the cluster outlives the test."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            self.thaw(self.processes())
        subprocess.run(
            ["pg_dropcluster", "--stop", self.version, self.name], check=False, capture_output=True
        )


def create_cluster() -> PrivateCluster:
    cluster = PrivateCluster(_version(), f"test_{uuid.uuid4().hex[:8]}", free_port())
    subprocess.run(
        ["pg_createcluster", "--port", str(cluster.port),
         "-o", "fsync=off", "-o", "max_connections=60", "-o", "shared_buffers=16MB",
         cluster.version, cluster.name, "--", "--auth=trust"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    try:
        cluster.start()
    except BaseException:
        cluster.drop()
        raise
    return cluster
