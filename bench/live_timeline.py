"""Measure the live path end to end under `faceit-ai run`: follow -> event -> prediction stored ->
finished -> scored -> notified, with timestamps.

Starts `faceit-ai run` in a temporary folder (the embedded default: SQLite, the demo league,
its live clock and worker in process) with a short clock, registers a user who follows one demo
player (in the app's database, as the Follow button does), waits for that player's match to
be played, scored and announced in the user's in-app inbox, and prints the timeline read back
from the database (faceit_events, live_matches, notification_outbox). The ratio compares the
time from the finished event to the result in the inbox against the live worker's poll
interval measured in the same run (the time from the created event to the stored prediction).
Ends with one JSON line.

Run: ``uv run python bench/live_timeline.py [stage_seconds] [players]`` (default 5 s, 20).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import select

FREE_PORT_BASE = int(os.environ.get("TEST_PORTS", "18000-18999").split("-")[0])


def wait_http(url: str, seconds: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"faceit-ai run exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


def main() -> None:
    stage = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    players = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    port = FREE_PORT_BASE + 501
    folder = Path(tempfile.mkdtemp(prefix="faceit-live-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DEMO_PLAYERS=str(players),
        DEMO_LIVE_EVERY_SECONDS="3600",  # only the first match and the followed player's
        DEMO_LIVE_STAGE_SECONDS=str(stage),
    )
    command = [str(Path(sys.executable).with_name("faceit-ai")), "run", "--port", str(port)]
    log = (folder / "run.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", 900, proc)
        serving_s = time.monotonic() - started
        print(f"faceit-ai run in {folder}: serving after {serving_s:.1f}s")
        figures = follow_and_watch(folder / "data", stage)
        figures["serving_s"] = round(serving_s, 1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    print(json.dumps(figures))


def follow_and_watch(data_dir: Path, stage: float) -> dict[str, object]:
    from core import auth, crud, notify
    from core.db.engine import make_engine, make_session_factory
    from core.db.schema import FaceitEvent, LiveMatch, NotificationOutbox
    from core.db.types import utcnow

    engine = make_engine(f"sqlite:///{data_dir / 'faceit.db'}")
    sessions = make_session_factory(engine)
    with sessions() as session:
        (nickname,) = crud.player_nicknames(session, limit=1)
        player = crud.find_player(session, nickname)
        assert player is not None
        user = auth.register_user(session, "timeline-fan", "fan@example.com", "Quiet-Harbour-4821")
        followed_at = utcnow()
        notify.follow(session, user.id, player.id)
    print(f"{followed_at:%H:%M:%S.%f} timeline-fan follows {nickname}")
    deadline = time.monotonic() + 900
    match_id = None
    while time.monotonic() < deadline:
        with sessions() as session:
            sent = session.scalars(
                select(NotificationOutbox).where(
                    NotificationOutbox.user_id == user.id,
                    NotificationOutbox.topic == "result",
                    NotificationOutbox.status == "sent",
                )
            ).first()
            if sent is not None:
                match_id = sent.event_key.split(":", 1)[1]
                break
        time.sleep(0.5)
    if match_id is None:
        raise RuntimeError("no result notification within 15 minutes")
    with sessions() as session:
        events = session.scalars(
            select(FaceitEvent)
            .where(FaceitEvent.match_id == match_id)
            .order_by(FaceitEvent.received_at)
        ).all()
        room = session.get(LiveMatch, match_id)
        notes = session.scalars(
            select(NotificationOutbox)
            .where(NotificationOutbox.event_key.like(f"%:{match_id}"))
            .order_by(NotificationOutbox.id)
        ).all()
    engine.dispose()
    assert room is not None
    steps: list[tuple[str, datetime]] = [("followed", followed_at)]
    for event in events:
        steps.append((f"{event.event} queued", event.received_at))
        if event.processed_at:
            steps.append((f"{event.event} handled", event.processed_at))
    for label, moment in [
        ("prediction stored", room.predicted_at),
        ("match started (ready)", room.started_at),
        ("match finished", room.finished_at),
        ("prediction scored", room.scored_at),
    ]:
        if moment is not None:
            steps.append((label, moment))
    for note in notes:
        steps.append((f"{note.topic} queued to outbox", note.created_at))
        if note.sent_at:
            steps.append((f"{note.topic} delivered to inbox", note.sent_at))
    steps.sort(key=lambda s: s[1])
    print(f"timeline of {match_id} (stage {stage:g} s):")
    for label, moment in steps:
        print(f"  {moment:%H:%M:%S.%f}  +{(moment - followed_at).total_seconds():7.2f}s  {label}")

    def at(label: str) -> datetime:
        return next(m for name, m in steps if name == label)

    created = at("match_object_created queued")
    finished = at("match_status_finished queued")
    predicted = at("prediction stored")
    notified = at("result delivered to inbox")
    baseline = (predicted - created).total_seconds()
    finish_to_notified = (notified - finished).total_seconds()
    return {
        "bench": "live_timeline",
        "stage_seconds": stage,
        "follow_to_created_s": round((created - followed_at).total_seconds(), 2),
        "created_to_predicted_s": round(baseline, 2),
        "predicted_before_start_s": round(
            (at("match started (ready)") - predicted).total_seconds(), 2
        ),
        "finished_to_scored_s": round((at("prediction scored") - finished).total_seconds(), 2),
        "finished_to_notified_s": round(finish_to_notified, 2),
        "ratio_finish_to_notified_vs_created_to_predicted": round(finish_to_notified / baseline, 2)
        if baseline > 0
        else None,
        "p_played": room.p_played,
        "load": Path("/proc/loadavg").read_text().split()[:3],
    }


if __name__ == "__main__":
    main()
