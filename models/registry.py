"""Versioned model artifacts in the ``model_versions`` table, champion/challenger promotion.

Artifacts are bytes produced by the models themselves (a zip of XGBoost UBJ + JSON metadata
for the match-outcome model, JSON for playstyle): never pickle.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import serialize
from core.db.schema import Match, ModelVersion, ServedPrediction
from models.errors import IncompatibleModel

T = TypeVar("T")

MATCH_OUTCOME = "match_outcome"
PLAYSTYLE = "playstyle"

Scorer = Callable[[bytes, Any], float]
"""(artifact bytes, evaluation data) -> metric value."""


def _as_datetime(value: datetime | int | float | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), tz=UTC)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def register(
    session: Session,
    name: str,
    artifact: bytes,
    metrics: dict[str, Any],
    feature_version: str,
    window: tuple[datetime | int | float | None, datetime | int | float | None] = (None, None),
) -> ModelVersion:
    """Store a new version (``max(version) + 1`` for ``name``); not promoted. Flushes only:
    the caller's transaction commits. Registrations of one name are serialized until the
    caller's transaction ends, so trainings at once (two pool workers) get a version each and
    their promotions decide one after another, against the champion the previous one left."""
    serialize(session, f"model_versions:{name}")
    current = session.scalar(
        select(func.max(ModelVersion.version)).where(ModelVersion.name == name)
    )
    row = ModelVersion(
        name=name,
        version=int(current or 0) + 1,
        artifact=artifact,
        metrics=_json_safe(metrics),
        feature_version=feature_version,
        train_start=_as_datetime(window[0]),
        train_end=_as_datetime(window[1]),
        promoted=False,
    )
    session.add(row)
    session.flush()
    return row


def champion(session: Session, name: str) -> ModelVersion | None:
    """The promoted version of ``name`` (None before the first promotion)."""
    return session.scalars(
        select(ModelVersion)
        .where(ModelVersion.name == name, ModelVersion.promoted.is_(True))
        .order_by(ModelVersion.version.desc())
        .limit(1)
    ).first()


def load_champion(session: Session, name: str) -> ModelVersion | None:
    return champion(session, name)


def champion_id(session: Session, name: str) -> int | None:
    """The promoted version's row id: one cheap indexed query."""
    return session.scalar(
        select(ModelVersion.id)
        .where(ModelVersion.name == name, ModelVersion.promoted.is_(True))
        .order_by(ModelVersion.version.desc())
        .limit(1)
    )


def champion_version(session: Session, name: str) -> int | None:
    """The promoted version's number (None before any promotion)."""
    return session.scalar(
        select(ModelVersion.version)
        .where(ModelVersion.name == name, ModelVersion.promoted.is_(True))
        .order_by(ModelVersion.version.desc())
        .limit(1)
    )


def promote(session: Session, candidate: ModelVersion) -> None:
    """Make ``candidate`` the only promoted version of its name."""
    session.execute(
        update(ModelVersion)
        .where(ModelVersion.name == candidate.name, ModelVersion.id != candidate.id)
        .values(promoted=False)
    )
    candidate.promoted = True
    candidate.promoted_at = datetime.now(UTC)
    session.flush()


@dataclass
class PromotionDecision:
    promoted: bool
    reason: str
    metric: str
    candidate_version: int
    candidate_score: float | None = None
    champion_version: int | None = None
    champion_score: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(_json_safe(self.__dict__.copy()))


def match_outcome_scorer(metric: str = "logloss") -> Scorer:
    """Score a match-outcome artifact on an evaluation dataset (models.match_outcome shape)."""

    def score(artifact: bytes, data: Any) -> float:
        from models.match_outcome import load_model, metrics

        model = load_model(artifact)
        return metrics(data["y"].to_numpy(), model.predict_frame(data))[metric]

    return score


def promote_if_better(
    session: Session,
    candidate: ModelVersion,
    eval_data: Any,
    *,
    metric: str = "logloss",
    higher_is_better: bool = False,
    scorer: Scorer | None = None,
    min_improvement: float = 0.0,
) -> PromotionDecision:
    """Promote ``candidate`` only if it beats the current champion on ``eval_data``.

    Both models are scored on the SAME held-out data (the candidate's evaluation window), so
    stored metrics from different windows are never compared. With no champion the candidate
    is promoted. A champion that cannot be scored on this data (e.g. an older feature set)
    is replaced, and the reason says so.
    """
    score_fn = scorer or match_outcome_scorer(metric)
    cand_score = float(score_fn(candidate.artifact, eval_data))
    decision = PromotionDecision(
        promoted=False,
        reason="",
        metric=metric,
        candidate_version=candidate.version,
        candidate_score=cand_score,
    )
    if not math.isfinite(cand_score):
        decision.reason = f"candidate {metric} is not finite"
        return decision
    current = champion(session, candidate.name)
    if current is None:
        promote(session, candidate)
        decision.promoted = True
        decision.reason = "no champion yet"
        return decision
    decision.champion_version = current.version
    if current.id == candidate.id:
        decision.reason = "candidate is already the champion"
        return decision
    try:
        champ_score = float(score_fn(current.artifact, eval_data))
    except Exception as exc:  # a champion from an incompatible feature set
        promote(session, candidate)
        decision.promoted = True
        decision.reason = f"champion v{current.version} cannot be scored on this data ({exc})"
        return decision
    decision.champion_score = champ_score
    gain = champ_score - cand_score if not higher_is_better else cand_score - champ_score
    if gain > min_improvement:
        promote(session, candidate)
        decision.promoted = True
        decision.reason = (
            f"candidate v{candidate.version} {metric} {cand_score:.5f} beats champion "
            f"v{current.version} {champ_score:.5f} on the same held-out window"
        )
    else:
        decision.reason = (
            f"refused: candidate v{candidate.version} {metric} {cand_score:.5f} does not beat "
            f"champion v{current.version} {champ_score:.5f} on the same held-out window"
        )
    return decision


class ChampionCache(Generic[T]):
    """Process cache of the promoted model of ``name``.

    ``get()`` re-checks the promoted version id at most every ``ttl`` seconds (one small query)
    and reloads the artifact only when it changed, so a promotion is picked up without restart.
    A champion the loader refuses (:class:`~models.errors.IncompatibleModel`: built on another
    feature version) is not served: ``get()`` returns None and :attr:`refused` says why.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        name: str,
        loader: Callable[[bytes], T],
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.name = name
        self.loader = loader
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._version_id: int | None = None
        self._version: int | None = None
        self._value: T | None = None
        self.refused: str | None = None

    @property
    def version(self) -> int | None:
        return self._version

    def get(self) -> T | None:
        with self._lock:
            now = self.clock()
            fresh = self._checked_at is not None and now - self._checked_at < self.ttl
            if fresh and self._value is not None:
                return self._value
            with self.sessions() as session:
                current = champion_id(session, self.name)
                if current != self._version_id:
                    self.refused = None
                    if current is None:
                        self._value, self._version = None, None
                    else:
                        row = session.get(ModelVersion, current)
                        if row is not None:
                            try:
                                self._value = self.loader(row.artifact)
                                self._version = row.version
                            except IncompatibleModel as exc:
                                self._value, self._version = None, None
                                self.refused = f"v{row.version}: {exc}"
                    self._version_id = current
            self._checked_at = now
            return self._value


# ---- the live track record ------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedPrediction:
    """A served pre-match prediction and, once the match's result is stored, its outcome."""

    match_id: str
    model_version: int
    map: str | None
    p_faction1: float
    served_at: datetime
    faction1_won: bool | None


def record_prediction(
    session: Session,
    match_id: str,
    name: str,
    version: int,
    p_faction1: float,
    map_name: str | None = None,
) -> bool:
    """Store a prediction served for a match whose result is not known yet, once per
    (match, model version): a repeat (or a concurrent twin) keeps the first. Flushes only.
    Returns True when this call stored it."""
    exists = select(ServedPrediction.id).where(
        ServedPrediction.match_id == match_id,
        ServedPrediction.model_name == name,
        ServedPrediction.model_version == version,
    )
    if session.scalar(exists) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                ServedPrediction(
                    match_id=match_id,
                    model_name=name,
                    model_version=version,
                    map=map_name,
                    p_faction1=float(p_faction1),
                )
            )
    except IntegrityError:  # a concurrent request stored the same (match, version) first
        return False
    return True


def track_record(session: Session, name: str, limit: int = 1000) -> list[RecordedPrediction]:
    """The newest served predictions of ``name`` with the result of their match (None while
    the match is not finished or not stored yet)."""
    rows = session.execute(
        select(ServedPrediction, Match.winner_faction)
        .outerjoin(Match, Match.id == ServedPrediction.match_id)
        .where(ServedPrediction.model_name == name)
        .order_by(ServedPrediction.served_at.desc(), ServedPrediction.id.desc())
        .limit(limit)
    ).all()
    return [
        RecordedPrediction(
            match_id=p.match_id,
            model_version=p.model_version,
            map=p.map,
            p_faction1=p.p_faction1,
            served_at=p.served_at,
            faction1_won=None if winner is None else winner == "faction1",
        )
        for p, winner in rows
    ]
