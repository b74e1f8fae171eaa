"""The one match filter of the stats pages and the free API routes (issue 18, item 3).

A :class:`MatchFilter` picks a player's matches by date range, map, weekday, hour of day, premade
or not, and result. :func:`apply` is the only code that filters the match history frame
(models.history), and every view computes its numbers from the filtered frame with the one
vocabulary (models.features), so the same filter gives the same K/D and ADR on the Overview,
Matches, Maps and Compare pages and in the API.

It lives here, in models/, next to the frame it filters and apart from features.py (which
defines stats, not which matches count) and history.py (which loads, and holds the SQL). It is
a pydantic model so that the API takes it as its query parameters (FastAPI validates them, a
bad value is a 422) and the app validates its URL with the same rules (:func:`from_query`).

Times are UTC and read from the match's start (``ts``, else its end): the date range includes
both ends, ``hour_from``..``hour_to`` both hours (``hour_from=18&hour_to=23``: from 18:00 to
23:59). A match whose premade flag FACEIT did not give is kept only without a team filter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Any, Literal, Self

import polars as pl
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""URL values of the weekdays, Monday first (polars' ``dt.weekday()`` is 1 for Monday)."""
WEEKDAY_LABELS = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Team = Literal["premade", "solo"]
Result = Literal["win", "loss"]
MapName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{0,3}_[a-z0-9_]{1,32}$")]
"""A FACEIT map id ("de_mirage"): lower-case letters, digits and underscores only."""

FIELDS: tuple[str, ...] = (
    "since",
    "until",
    "map",
    "weekday",
    "hour_from",
    "hour_to",
    "team",
    "result",
)
"""The URL and query parameter names of a filter, in the order a page shows them."""
LABELS: dict[str, str] = {
    "since": "From",
    "until": "To",
    "map": "Map",
    "weekday": "Weekday",
    "hour_from": "From hour",
    "hour_to": "To hour",
    "team": "Team",
    "result": "Result",
}
FIRST_DAY = date(2012, 1, 1)
"""No FACEIT match is older (FACEIT was founded in 2012): the earliest date the app's date
pickers offer (an older date in a URL or a query keeps the same matches as this one)."""
LAST_DAY = date(2099, 12, 31)
COLUMNS: tuple[str, ...] = ("ts", "map", "result", "premade")
"""The history columns :func:`apply` reads."""


class MatchFilter(BaseModel):
    """Which of a player's matches count. Every field empty: every match."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    since: date | None = Field(
        default=None, description="First day (UTC, included)", examples=["2025-01-01"]
    )
    until: date | None = Field(
        default=None, description="Last day (UTC, included)", examples=["2025-06-30"]
    )
    map: list[MapName] = Field(
        default_factory=list,
        max_length=16,
        description="Only these maps (repeat the parameter for several)",
        examples=[["de_mirage", "de_inferno"]],
    )
    weekday: list[Weekday] = Field(
        default_factory=list,
        max_length=7,
        description="Only these weekdays (UTC), mon..sun (repeat the parameter for several)",
        examples=[["sat", "sun"]],
    )
    hour_from: int | None = Field(
        default=None, ge=0, le=23, description="Matches started from this hour (UTC)", examples=[18]
    )
    hour_to: int | None = Field(
        default=None, ge=0, le=23, description="...up to this hour included (UTC)", examples=[23]
    )
    team: Team | None = Field(
        default=None,
        description="premade: the player's team queued as one party of five; solo: it did not",
        examples=["solo"],
    )
    result: Result | None = Field(default=None, description="win or loss", examples=["win"])

    @field_validator("map", "weekday", mode="after")
    @classmethod
    def _canonical(cls, values: list[str], info: ValidationInfo) -> list[str]:
        """Each value once, in one order (weekdays Monday first): equal filters are equal."""
        order = WEEKDAYS.index if info.field_name == "weekday" else None
        return sorted(set(values), key=order)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError(
                f"the date range ends ({self.until.isoformat()}) before it starts "
                f"({self.since.isoformat()})"
            )
        if (
            self.hour_from is not None
            and self.hour_to is not None
            and self.hour_from > self.hour_to
        ):
            raise ValueError(f"the hours end ({self.hour_to}) before they start ({self.hour_from})")
        return self

    @property
    def active(self) -> bool:
        return bool(self.query())

    def query(self) -> dict[str, str | list[str]]:
        """The filter as URL/query parameters (only the fields set), in :data:`FIELDS` order."""
        out: dict[str, str | list[str]] = {}
        for name in FIELDS:
            value = getattr(self, name)
            if value is None or value == []:
                continue
            if isinstance(value, list):
                out[name] = [str(v) for v in value]
            else:
                out[name] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    def key(self) -> str:
        """A canonical text of the filter (a cache key part): equal filters, equal keys."""
        parts = []
        for name, value in self.query().items():
            values = value if isinstance(value, list) else [value]
            parts.append(f"{name}={','.join(values)}")
        return "&".join(parts) or "all"


def apply(frame: pl.DataFrame, flt: MatchFilter) -> pl.DataFrame:
    """The rows of the history ``frame`` (:data:`COLUMNS` at least) that ``flt`` keeps, in
    their order. An empty filter returns ``frame`` itself."""
    conditions = expression(flt)
    return frame.filter(conditions) if conditions is not None else frame


def expression(flt: MatchFilter) -> pl.Expr | None:
    """The filter as one polars predicate on the history columns (None: keep every row)."""
    when = pl.from_epoch("ts", time_unit="s").dt.replace_time_zone("UTC")
    parts: list[pl.Expr] = []
    if flt.since is not None:
        parts.append(when.dt.date() >= flt.since)
    if flt.until is not None:
        parts.append(when.dt.date() <= flt.until)
    if flt.map:
        parts.append(pl.col("map").is_in(list(flt.map)))
    if flt.weekday:
        parts.append(when.dt.weekday().is_in([WEEKDAYS.index(d) + 1 for d in flt.weekday]))
    if flt.hour_from is not None:
        parts.append(when.dt.hour() >= flt.hour_from)
    if flt.hour_to is not None:
        parts.append(when.dt.hour() <= flt.hour_to)
    if flt.team is not None:
        parts.append(pl.col("premade").eq(flt.team == "premade").fill_null(False))
    if flt.result is not None:
        parts.append(pl.col("result").eq(flt.result == "win").fill_null(False))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined


def from_query(params: Mapping[str, Iterable[str]]) -> tuple[MatchFilter, list[str]]:
    """A filter from URL parameters (each name to its values, as ``st.query_params`` gives
    them with ``get_all``), and a plain sentence for every value that was refused. A refused
    value is left out and the rest still applies: ``hour_from=99`` drops only that hour, a date
    range in the wrong order drops both dates. Names that are not filter fields are ignored."""
    raw: dict[str, Any] = {}
    for name in FIELDS:
        values = [v for v in params.get(name, ()) if v != ""]
        if not values:
            continue
        raw[name] = values if name in ("map", "weekday") else values[-1]
    problems: list[str] = []
    for _attempt in range(len(FIELDS) + 1):
        try:
            return MatchFilter.model_validate(raw), problems
        except ValidationError as exc:
            dropped = False
            for error in exc.errors():
                loc = error.get("loc", ())
                name = str(loc[0]) if loc else ""
                if name in raw:
                    value = (
                        raw[name][loc[1]] if len(loc) > 1 and isinstance(loc[1], int) else raw[name]
                    )
                    problems.append(_problem(name, value))
                    if len(loc) > 1 and isinstance(loc[1], int):
                        raw[name] = [v for i, v in enumerate(raw[name]) if i != loc[1]]
                    else:
                        raw.pop(name)
                    dropped = True
                elif not loc:  # the ranges' order
                    message = str(error.get("msg", "")).removeprefix("Value error, ")
                    pair = ("since", "until") if "date" in message else ("hour_from", "hour_to")
                    problems.append(f"{message[:1].upper()}{message[1:]}: both are ignored.")
                    for part in pair:
                        raw.pop(part, None)
                    dropped = True
                if dropped:
                    break  # validate again: one error's index shifts the others'
            if not dropped:
                return MatchFilter(), problems
    return MatchFilter(), problems


def _problem(name: str, value: object) -> str:
    shown = str(value)
    shown = shown if len(shown) <= 40 else shown[:39] + "…"
    hint = {
        "since": "a date as YYYY-MM-DD",
        "until": "a date as YYYY-MM-DD",
        "map": "a map of CS2",
        "weekday": "one of " + ", ".join(WEEKDAYS),
        "hour_from": "an hour from 0 to 23",
        "hour_to": "an hour from 0 to 23",
        "team": "premade or solo",
        "result": "win or loss",
    }[name]
    return f"{LABELS[name]} “{shown}” is not {hint}: it is ignored."
