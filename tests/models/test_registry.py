"""Model registry on both databases: round trip, champion/challenger, process cache."""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import make_session_factory, serialize, transaction
from core.db.schema import ModelVersion
from models import match_outcome as mo
from models import registry
from models.analysis import AnalysisModels
from models.errors import IncompatibleModel, ModelNotTrained


@pytest.fixture(scope="module")
def shuffled(split: mo.Split) -> bytes:
    """A model trained on shuffled outcomes (worse than the session's ``model``), trained once
    for the module: each backend's test registers the same artifact."""
    rng = np.random.default_rng(0)
    bad = split.train.with_columns(pl.Series("y", rng.permutation(split.train["y"].to_numpy())))
    return mo.train(mo.Split(bad, split.calibration, split.evaluation), num_rounds=120).to_bytes()


def test_round_trip_and_promotion(
    sessions: sessionmaker[Session], model: mo.MatchOutcomeModel, split: mo.Split, shuffled: bytes
) -> None:
    window = mo.dataset_window(split.train)
    with sessions.begin() as s:
        bad = registry.register(
            s,
            registry.MATCH_OUTCOME,
            shuffled,
            {"x": float("nan")},
            mo.FEATURE_VERSION,
            window,
        )
        first = registry.promote_if_better(s, bad, split.evaluation)
        assert first.promoted and first.reason == "no champion yet"
        good = registry.register(
            s,
            registry.MATCH_OUTCOME,
            model.to_bytes(),
            {"logloss": 0.6},
            mo.FEATURE_VERSION,
            window,
        )
        assert (bad.version, good.version) == (1, 2)
        decision = registry.promote_if_better(s, good, split.evaluation)
        assert decision.promoted, decision.reason
        assert decision.candidate_score < decision.champion_score
    with sessions.begin() as s:
        worse = registry.register(
            s,
            registry.MATCH_OUTCOME,
            shuffled,
            {},
            mo.FEATURE_VERSION,
            window,
        )
        refused = registry.promote_if_better(s, worse, split.evaluation)
        assert not refused.promoted and refused.reason.startswith("refused")
        assert refused.champion_version == 2
    with sessions() as s:
        champ = registry.load_champion(s, registry.MATCH_OUTCOME)
        assert champ is not None and champ.version == 2 and champ.metrics == {"logloss": 0.6}
        assert champ.train_start is not None and champ.train_end is not None
        assert int(champ.train_start.timestamp()) == window[0]
        loaded = mo.MatchOutcomeModel.from_bytes(champ.artifact)
    x = mo.feature_matrix(split.evaluation, model.features)
    assert np.array_equal(loaded.predict_proba(x), model.predict_proba(x))


def test_champion_cache_picks_up_promotion(
    sessions: sessionmaker[Session], model: mo.MatchOutcomeModel
) -> None:
    now = [0.0]
    cache = registry.ChampionCache(
        sessions, "toy", lambda b: b.decode(), ttl=30.0, clock=lambda: now[0]
    )
    assert cache.get() is None
    with sessions.begin() as s:
        v1 = registry.register(s, "toy", b"one", {}, "1")
        registry.promote(s, v1)
    # absence is not cached: the first champion is served at once, not after the TTL
    assert cache.get() == "one" and cache.version == 1
    with sessions.begin() as s:
        v_ignored = registry.register(s, "toy", b"not yet", {}, "1")
        registry.promote(s, v_ignored)
    now[0] = 29.0
    assert cache.get() == "one"  # a present champion is re-checked only after the TTL
    now[0] = 31.0
    assert cache.get() == "not yet"
    with sessions.begin() as s:
        v3 = registry.register(s, "toy", b"two", {}, "1")
        registry.promote(s, v3)
    now[0] = 62.0
    assert cache.get() == "two" and cache.version == 3
    with sessions() as s:
        promoted = [v for v in (registry.champion(s, "toy"),) if v]
        assert [v.version for v in promoted] == [3]


def test_a_model_of_another_feature_version_is_refused_cleanly(
    sessions: sessionmaker[Session], split: mo.Split
) -> None:
    """An artifact built on other features is never served: the cache says why, the analyses
    say an operator has to retrain, and the next training replaces it."""
    name = "match_outcome_versions"
    current = mo.train_linear(split.train, split.calibration)
    old = dataclasses.replace(current, feature_version="mo-3")
    with pytest.raises(IncompatibleModel, match=r"'mo-3'.*retrained"):
        mo.load_model(old.to_bytes())
    with sessions.begin() as s:
        stale = registry.register(s, name, old.to_bytes(), {}, old.feature_version)
        registry.promote(s, stale)
    cache = registry.ChampionCache(sessions, name, mo.load_model)
    assert cache.get() is None and cache.version is None
    assert cache.refused is not None and "'mo-3'" in cache.refused
    models = AnalysisModels(
        match_outcome=cache, playstyle=registry.ChampionCache(sessions, "none", bytes)
    )
    with pytest.raises(ModelNotTrained, match=r"feature version 'mo-3'.*faceit-ai train"):
        models.outcome_model()
    with sessions.begin() as s:
        fresh = registry.register(s, name, current.to_bytes(), {}, current.feature_version)
        decision = registry.promote_if_better(s, fresh, split.evaluation)
    assert decision.promoted and "cannot be scored" in decision.reason
    cache.ttl = 0.0
    served = cache.get()
    assert served is not None and cache.refused is None and cache.version == fresh.version
    np.testing.assert_array_equal(
        served.predict_frame(split.evaluation), current.predict_frame(split.evaluation)
    )


def test_trainings_registering_at_once_get_one_version_each_and_one_champion(
    pg_engine: Engine,
) -> None:
    """Two pool workers may train the same model at once (a schedule and a manual run). Each
    registration is serialized with the others until its transaction ends: before, both read
    the same ``max(version)`` and the later one failed its flow run on the unique version;
    promotions at once could also leave two versions promoted."""
    sessions = make_session_factory(pg_engine)
    runs = 4
    start = threading.Barrier(runs)

    def train(index: int) -> int:
        start.wait()
        with transaction(sessions) as s:
            version = registry.register(s, "toy", f"fit {index}".encode(), {}, "1")
            time.sleep(0.1)  # the rest of a promotion, while the others register
            registry.promote(s, version)
            return version.version

    with ThreadPoolExecutor(runs) as pool:
        versions = list(pool.map(train, range(runs)))
    assert sorted(versions) == list(range(1, runs + 1))
    with sessions() as s:
        promoted = s.scalars(
            select(ModelVersion.version).where(
                ModelVersion.name == "toy", ModelVersion.promoted.is_(True)
            )
        ).all()
    assert promoted == [runs]  # the last registered is the champion, and the only one


def test_a_registration_waits_past_the_statement_timeout_and_gives_up_clearly(
    pg_engine: Engine,
) -> None:
    """The lock is polled: a promotion longer than the database's statement timeout does not
    fail the registration waiting for it, and a lock held too long fails with its name."""
    sessions = make_session_factory(pg_engine)
    with transaction(sessions) as holder:
        serialize(holder, "model_versions:toy")
        with transaction(sessions) as waiter:
            waiter.execute(text("SET LOCAL statement_timeout = 50"))
            started = time.monotonic()
            with pytest.raises(TimeoutError, match="model_versions:toy"):
                serialize(waiter, "model_versions:toy", wait_seconds=0.5)
            assert time.monotonic() - started >= 0.5
    with transaction(sessions) as s:  # released with the holder's transaction
        assert registry.register(s, "toy", b"fit", {}, "1").version == 1
