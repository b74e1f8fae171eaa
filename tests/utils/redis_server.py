"""A private redis-server the tests can stop and start again (for outage tests)."""

from __future__ import annotations

import subprocess
import time

import redis


def start_redis(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.2)
    try:
        while True:
            try:
                if client.ping():
                    return proc
            except redis.RedisError:
                if time.monotonic() > deadline:
                    proc.kill()
                    raise
                time.sleep(0.02)
    finally:
        client.close()


def stop_redis(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
