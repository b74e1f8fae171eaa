"""Streaks and tilt: does a player do worse after losses in a row, or late in a session?

From the one history (models.history) and the one rating (models.features.match_ratings):

* streaks: the current run (+n wins / -n losses up to the latest match) and the longest run of
  wins and of losses, always over the whole history (a run is consecutive matches as played:
  the matches a filter keeps are not consecutive, and "27 losses in a row" under a losses-only
  filter would be a count, not a streak);
* tilt groups: the matches played after exactly 1, exactly 2, and 3 or more losses in a row,
  and the matches by their position in a *session* (a match that starts less than
  ``session_minutes`` after the previous one ended continues the session): 1st, 2nd, 3rd, 4th+.

Each group is compared with the player's *other* matches on two things, the win rate and the
mean match rating. The difference gets a normal interval with its standard error under no
difference (all the matches' variance pooled; for wins, the two-proportion z-test's), so it is
deterministic and a page and the API show the same interval. Every group tested is two
comparisons, so the intervals are Bonferroni-adjusted: at ``1 - 0.05 / comparisons`` each, a
player with no tilt at all gets any verdict in at most about 5% of histories. A verdict (a
plain sentence) is given only when an interval excludes 0, and only for a group of at least
:data:`MIN_GROUP` matches; otherwise the group shows its numbers and no verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from statistics import NormalDist

import numpy as np
import polars as pl

from models import features

SESSION_MINUTES = 60
"""Default gap (minutes) under which the next match continues a session."""
MIN_GROUP = 10
"""Fewest matches in a group (and among the other matches) for a verdict."""
FAMILY_ERROR = 0.05
"""Chance of any verdict for a player with no tilt (split over the comparisons)."""

LOSS_GROUPS = ((1, "After 1 loss"), (2, "After 2 losses in a row"), (3, "After 3+ losses in a row"))
SESSION_GROUPS = (
    (1, "1st match of a session"),
    (2, "2nd match of a session"),
    (3, "3rd match of a session"),
    (4, "4th+ match of a session"),
)


@dataclass(frozen=True)
class Streaks:
    current: int
    """+n: n wins in a row up to the latest match; -n: n losses; 0 without matches."""
    longest_win: int
    longest_loss: int


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class TiltGroup:
    kind: str
    """"losses" (after losses in a row) or "session" (position in a session)."""
    label: str
    matches: int
    win_rate: float | None
    rating: float | None
    other_matches: int
    other_win_rate: float | None
    other_rating: float | None
    win_rate_interval: Interval | None
    """Bootstrap interval of win_rate - other_win_rate; None when not tested (too few)."""
    rating_interval: Interval | None
    verdict: str | None
    """A plain sentence when a difference is bigger than its noise, else None."""


@dataclass(frozen=True)
class TiltReport:
    streaks: Streaks
    session_minutes: int
    confidence: float
    """Confidence level of each interval (Bonferroni-adjusted)."""
    groups: list[TiltGroup] = field(default_factory=list)

    @property
    def verdicts(self) -> list[str]:
        return [g.verdict for g in self.groups if g.verdict]


def streaks(results: list[bool]) -> Streaks:
    """Streaks of a player's results, oldest first."""
    longest = {True: 0, False: 0}
    run, last = 0, None
    for won in results:
        run = run + 1 if won == last else 1
        last = won
        longest[won] = max(longest[won], run)
    current = 0 if last is None else (run if last else -run)
    return Streaks(current, longest[True], longest[False])


def tilt_frame(history: pl.DataFrame, session_minutes: int = SESSION_MINUTES) -> pl.DataFrame:
    """One player's matches, oldest first: ``match_id``, ``win`` (0/1), ``rating``,
    ``losses_before`` (losses in a row just before the match) and ``session_position``
    (1 for the first match of a session)."""
    rated = features.match_ratings(history.sort("ts", "match_id"))
    lost = (~pl.col("result").fill_null(False)).cast(pl.Int64)
    # id of the run of equal results; losses_before = length so far of the previous loss run
    run = pl.col("result").fill_null(False).rle_id()
    frame = rated.with_columns(
        pl.col("result").fill_null(False).cast(pl.Float64).alias("win"),
        lost.alias("lost"),
        run.alias("run"),
    ).with_columns(pl.col("lost").cum_sum().over("run").alias("loss_run"))
    gap = pl.col("ts") - pl.col("finished_at").dt.epoch("s").shift(1)
    new_session = gap.is_null() | (gap >= session_minutes * 60)
    frame = frame.with_columns(
        pl.col("loss_run").shift(1).fill_null(0).alias("losses_before"),
        new_session.cum_sum().alias("session"),
    ).with_columns(pl.int_range(pl.len()).over("session").add(1).alias("session_position"))
    return frame.select("match_id", "win", "rating", "losses_before", "session_position")


def _interval(a: np.ndarray, b: np.ndarray, confidence: float) -> Interval:
    """Interval of mean(a) - mean(b) with the standard error the difference has when there is
    no difference: the variance of all the matches pooled, ``sqrt(var * (1/na + 1/nb))``. For
    0/1 wins this is the two-proportion z-test's pooled error. Not each group's own variance
    (nor a bootstrap, which resamples it): a small group's own spread (2 wins of 10) is often
    small by chance and would make the test speak on noise."""
    pooled = np.concatenate([a, b])
    spread = float(np.sqrt(pooled.var(ddof=1) * (1 / a.size + 1 / b.size)))
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    centre = float(a.mean() - b.mean())
    return Interval(centre - z * spread, centre + z * spread)


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def _verdict(label: str, group: TiltGroup) -> str | None:
    parts = []
    wi, ri = group.win_rate_interval, group.rating_interval
    if wi is not None and wi.excludes_zero:
        word = "more" if wi.low > 0 else "less"
        parts.append(
            f"you win {word} often: {group.win_rate:.0%} against {group.other_win_rate:.0%} "
            "in your other matches"
        )
    if ri is not None and ri.excludes_zero:
        word = "better" if ri.low > 0 else "worse"
        parts.append(f"you play {word}: rating {group.rating:.2f} against {group.other_rating:.2f}")
    if not parts:
        return None
    return f"{label} ({group.matches} matches), " + " and ".join(parts) + "."


def tilt_report(
    history: pl.DataFrame,
    session_minutes: int = SESSION_MINUTES,
    *,
    keep: pl.Series | None = None,
) -> TiltReport:
    """Streaks and the tilt groups of one player's history (see the module docstring). With
    ``keep`` (match ids, a filter's matches: models.filters), only those matches are grouped
    and counted, each by the losses and the session before it in the whole history; the
    streaks stay the whole history's."""
    if session_minutes < 1:
        raise ValueError("a session gap is at least 1 minute")
    frame = tilt_frame(history, session_minutes) if not history.is_empty() else None
    runs = streaks([bool(w) for w in frame["win"]]) if frame is not None else Streaks(0, 0, 0)
    if frame is not None and keep is not None:
        frame = frame.filter(pl.col("match_id").is_in(keep.implode()))
    if frame is None or frame.is_empty():
        return TiltReport(runs, session_minutes, 1 - FAMILY_ERROR)
    wins = frame["win"].to_numpy()
    ratings = frame["rating"].to_numpy()
    rated = np.isfinite(ratings.astype(np.float64))
    masks: list[tuple[str, str, np.ndarray]] = []
    losses_before = frame["losses_before"].to_numpy()
    position = frame["session_position"].to_numpy()
    for n, label in LOSS_GROUPS:
        masks.append(("losses", label, losses_before >= n if n == 3 else losses_before == n))
    for n, label in SESSION_GROUPS:
        masks.append(("session", label, position >= n if n == 4 else position == n))

    def testable(mask: np.ndarray) -> bool:
        return int(mask.sum()) >= MIN_GROUP and int((~mask).sum()) >= MIN_GROUP

    tested = sum(testable(mask) for _kind, _label, mask in masks)
    confidence = 1 - FAMILY_ERROR / max(1, 2 * tested)
    groups = []
    for kind, label, mask in masks:
        other = ~mask
        w_in, w_out = wins[mask], wins[other]
        r_in, r_out = ratings[mask & rated], ratings[other & rated]
        win_iv = rating_iv = None
        if testable(mask):
            win_iv = _interval(w_in, w_out, confidence)
            if r_in.size >= MIN_GROUP and r_out.size >= MIN_GROUP:
                rating_iv = _interval(r_in, r_out, confidence)
        group = TiltGroup(
            kind=kind,
            label=label,
            matches=int(mask.sum()),
            win_rate=_mean(w_in),
            rating=_mean(r_in),
            other_matches=int(other.sum()),
            other_win_rate=_mean(w_out),
            other_rating=_mean(r_out),
            win_rate_interval=win_iv,
            rating_interval=rating_iv,
            verdict=None,
        )
        groups.append(replace(group, verdict=_verdict(label, group)))
    return TiltReport(runs, session_minutes, confidence, groups)
