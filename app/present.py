"""How the app says things: human labels for every stat, sensible precision, map names as
players say them, dates in the user's terms, scores from the player's side.

Pages never show a raw key (``kd_last10``), an unrounded float (``61.6871``) or a timestamp
(``2026-10-28 17:01:32+00:00``): they go through these functions, so the same stat reads the
same everywhere.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import humanize

from core.cs2 import MAP_LABELS
from models import filters
from models.filters import MatchFilter

# every stat key a page can show -> what a player calls it
STAT_LABELS: dict[str, str] = {
    "kd": "K/D",
    "kd_lifetime": "K/D",
    "kd_last10": "K/D (last 10)",
    "kpr": "Kills per round",
    "dpr": "Deaths per round",
    "apr": "Assists per round",
    "adr": "ADR",
    "adr_lifetime": "ADR",
    "hs_pct": "Headshot %",
    "hs_pct_lifetime": "Headshot %",
    "win_rate": "Win rate",
    "win_rate_lifetime": "Win rate",
    "win_rate_last10": "Win rate (last 10)",
    "entry_rate": "Opening duels per round",
    "entry_success": "Opening duels won",
    "sniper_share": "Kills with a sniper",
    "utility_dpr": "Utility damage per round",
    "flashes_pr": "Flashes per round",
    "enemies_flashed_pr": "Enemies flashed per round",
    "clutch_pr": "Clutches per round",
    "rating": "Rating",
    "rating_lifetime": "Rating",
    "form": "Form",
    "matches": "Matches",
    "matches_lifetime": "Matches",
    "elo": "Elo",
    "level": "Level",
    "role": "Role",
}
# stats that are shares (0-1) and read as percentages
SHARES = {"win_rate", "entry_success", "sniper_share"}
# stats already in percent (0-100)
PERCENTS = {"hs_pct"}
ONE_DECIMAL = {"adr", "utility_dpr"}
ROLE_DESCRIPTIONS = {
    "AWPer": "AWPer",
    "Entry": "entry fragger",
    "Support": "support",
    "Anchor": "anchor",
    "Rifler": "rifler",
}


def base_stat(key: str) -> str:
    """``kd_last10`` -> ``kd``; ``win_rate_lifetime`` -> ``win_rate``."""
    for suffix in ("_lifetime", "_last10", "_last20", "_last50"):
        if key.endswith(suffix):
            return key.removesuffix(suffix)
    return key


def stat_label(key: str) -> str:
    """What a player calls the stat (falls back to a readable form of the key, never the key)."""
    if key in STAT_LABELS:
        return STAT_LABELS[key]
    return key.replace("_", " ").capitalize()


def stat_value(key: str, value: float | None) -> str:
    """A stat at the precision players use: 62%, 1.07, 84.3; "–" when unknown."""
    if value is None:
        return "–"
    stat = base_stat(key)
    if stat in SHARES:
        return f"{value:.0%}"
    if stat in PERCENTS:
        return f"{value:.0f}%"
    if stat in {"matches", "elo", "level"}:
        return f"{value:,.0f}"
    if stat in ONE_DECIMAL:
        return f"{value:.1f}"
    return f"{value:.2f}"


def stat_change(key: str, now: float | None, before: float | None) -> str | None:
    """A signed change for a metric's delta (Streamlit draws the arrow from the sign); one
    that shows as zero at its precision is "±0" (:func:`is_flat`: no arrow, no colour)."""
    if now is None or before is None:
        return None
    change = now - before
    stat = base_stat(key)
    if stat in SHARES:
        text, unit = f"{change * 100:+.0f}", " pts"
    elif stat in ONE_DECIMAL or stat in PERCENTS:
        text, unit = f"{change:+.1f}", ""
    else:
        text, unit = f"{change:+.2f}", ""
    if not text.strip("+-0."):
        text = "±" + text[1:]
    return text + unit


def is_flat(change: str) -> bool:
    """A :func:`stat_change` that shows no change: drawn without an up or down arrow."""
    return change.startswith("±")


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 11th, 22nd."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def standing(percentile: float, peers: int, group: str) -> str:
    """Where a stat stands among the peer group (``group``: "level-8 EU", models.peers.label),
    in words that stay true for a few peers: "the 62nd percentile of 40 level-8 EU players",
    "below all 2 level-8 players"."""
    who = f"{peers:,} {group} player{'s' if peers != 1 else ''}"
    if percentile <= 0:
        return f"below {'all ' if peers > 1 else ''}{who}"
    if percentile >= 100:
        return f"above {'all ' if peers > 1 else ''}{who}"
    return f"the {ordinal(round(percentile))} percentile of {who}"


def map_label(map_name: str | None) -> str:
    """ "Mirage" for "de_mirage", "Dust2" for "de_dust2"."""
    if not map_name:
        return "Unknown map"
    return MAP_LABELS.get(map_name) or map_name.removeprefix("de_").capitalize()


def role_phrase(role: str | None) -> str:
    """ "an AWPer", "a support"; "no clear role yet" when unknown."""
    if not role:
        return "no clear role yet"
    described = ROLE_DESCRIPTIONS.get(role, role.lower())
    article = "an" if described[:1].lower() in "aeiou" else "a"
    return f"{article} {described}"


def role_label(role: str | None) -> str:
    """ "AWPer", "Entry fragger": the role as a table cell or a chart label."""
    if not role:
        return "Not profiled yet"
    described = ROLE_DESCRIPTIONS.get(role, role)
    return described[:1].upper() + described[1:]  # not .capitalize(): it makes "AWPer" "Awper"


def relative_time(when: datetime | None, now: datetime | None = None) -> str:
    """ "3 days ago", "an hour ago", "just now"; "never" when unknown."""
    if when is None:
        return "never"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    delta = now - when
    if abs(delta.total_seconds()) < 60:
        return "just now"
    return humanize.naturaltime(delta)


def player_score(faction: str | None, score1: int | None, score2: int | None) -> str:
    """The round score from the player's side: "13 – 7" means the player's team won 13."""
    if score1 is None or score2 is None:
        return "–"
    own, other = (score2, score1) if faction == "faction2" else (score1, score2)
    return f"{own} – {other}"


def elo_change(change: int | None, estimated: bool = False) -> str:
    """An Elo change as FACEIT writes it: "+25", "-18", "0"; "~+25" when estimated (back-filled
    from the current Elo rather than observed); "–" when unknown."""
    if change is None:
        return "–"
    text = f"{change:+d}" if change else "0"
    return f"~{text}" if estimated else text


def streak(n: int) -> str:
    """A signed streak in words: "3 wins", "1 loss", "none"."""
    if n == 0:
        return "none"
    count = abs(n)
    word = ("win" if n > 0 else "loss") + ("" if count == 1 else ("s" if n > 0 else "es"))
    return f"{count} {word}"


def filter_summary(flt: MatchFilter) -> str:
    """A match filter (models.filters) in words: "Mirage, Nuke · wins · Saturday, Sunday ·
    18:00-23:59 UTC · solo queue · from 1 Jan 2025"; "every match" when it keeps all."""
    parts = []
    if flt.map:
        parts.append(", ".join(map_label(m) for m in sorted(flt.map)))
    if flt.result:
        parts.append("wins" if flt.result == "win" else "losses")
    if flt.weekday:
        days = sorted(flt.weekday, key=filters.WEEKDAYS.index)
        parts.append(", ".join(filters.WEEKDAY_LABELS[d] for d in days))
    if flt.hour_from is not None or flt.hour_to is not None:
        low = 0 if flt.hour_from is None else flt.hour_from
        high = 23 if flt.hour_to is None else flt.hour_to
        parts.append(f"{low:02d}:00-{high:02d}:59 UTC")
    if flt.team:
        parts.append("premade party" if flt.team == "premade" else "solo queue")
    if flt.since and flt.until:
        parts.append(f"{_day(flt.since)} to {_day(flt.until)}")
    elif flt.since:
        parts.append(f"from {_day(flt.since)}")
    elif flt.until:
        parts.append(f"until {_day(flt.until)}")
    return " · ".join(parts) or "every match"


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"
