"""Build FACEIT Data API v4 payloads (plain dicts) from a :class:`League`.

Shapes follow the recorded FACEIT bodies in ``tests/fixtures/faceit``; statistics are strings
formatted like the real API (at most 2 decimals, trailing zeros dropped: ``"1.5"``, ``"1"``).
"""

from __future__ import annotations

import bisect
import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .sim import MAP_LABELS, MAPS, League, elo_to_level

COMPETITION_ID = "f4148ddd-bce8-41b8-9131-ee83afcdd6dd"
COMPETITION_NAME = "Europe 5v5 Queue"
REGION = "EU"
NOT_FOUND: dict[str, Any] = {
    "errors": [{"message": "The resource was not found.", "code": "err_nf0"}]
}

_CDN = "https://distribution.faceit-cdn.net/images"
_ASSETS = "https://assets.faceit-cdn.net/third_party/games/ce652bd4-0abb-4c90-9936-1133965ca38b"
_MAP_IMG = {
    m: (
        f"{_ASSETS}/assets/votables/{uuid.uuid5(uuid.NAMESPACE_URL, 'small/' + m)}.jpeg",
        f"{_CDN}/{uuid.uuid5(uuid.NAMESPACE_URL, 'regular/' + m)}.jpeg",
    )
    for m in MAPS
}
_LOCATIONS = ("Netherlands", "UK", "Germany", "Sweden", "France", "Poland", "Finland")
_LOCATIONS_WITHOUT_ID = frozenset({"UK"})
"""As in the reference match.json, the UK location entity carries no ``game_location_id``."""
_FLAG = {
    "Netherlands": "nl",
    "UK": "uk",
    "Germany": "de",
    "Sweden": "se",
    "France": "fr",
    "Poland": "pl",
    "Finland": "fi",
}


def fmt(x: float, nd: int = 2) -> str:
    """API-style number string: rounded to ``nd`` decimals, trailing zeros stripped."""
    s = f"{x:.{nd}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _iround(x: float) -> int:
    return int(np.floor(x + 0.5))


def iso_ms(ts_ms: int) -> str:
    dt = datetime.fromtimestamp(ts_ms // 1000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ts_ms % 1000:03d}Z"


def player_url(nick: str) -> str:
    return f"https://www.faceit.com/{{lang}}/players/{nick}"


def room_url(match_id: str) -> str:
    return f"https://www.faceit.com/{{lang}}/cs2/room/{match_id}"


# ---------------------------------------------------------------------------------------------
# per-match derived values
# ---------------------------------------------------------------------------------------------
def kd(kills: int, deaths: int) -> float:
    return round(kills / max(deaths, 1), 2)


def kr(kills: int, rounds: int) -> float:
    return round(kills / max(rounds, 1), 2)


def hs_pct(hs: int, kills: int) -> int:
    return _iround(100 * hs / kills) if kills else 0


def team_name(league: League, m: int, faction: int) -> str:
    return "team_" + league.nicknames[int(league.mp_player[m, faction * 5])]


LEGACY_STAT_KEYS: tuple[str, ...] = (
    "Kills",
    "Deaths",
    "Assists",
    "Headshots",
    "Headshots %",
    "K/D Ratio",
    "K/R Ratio",
    "MVPs",
    "Triple Kills",
    "Quadro Kills",
    "Penta Kills",
    "Result",
)
"""The only ``player_stats`` keys of a legacy match (before extended stats): the keys are absent,
not "0". Damage, ADR and double kills are extended too: the real lifetime "ADR" is "Total Damage"
over "Total Rounds with extended stats", and no lifetime double-kill total exists."""


def match_player_stats(league: League, m: int, slot: int) -> dict[str, str]:
    """The 47 ``player_stats`` of one player in one match (only the 12 legacy keys if legacy)."""
    s = {k: int(v[m, slot]) for k, v in league.stats.items()}
    rounds = int(league.rounds[m])
    result = int(int(league.winner[m]) == slot // 5)
    k = s["kills"]
    out = {
        "Kills": str(k),
        "Deaths": str(s["deaths"]),
        "Assists": str(s["assists"]),
        "Headshots": str(s["headshots"]),
        "Headshots %": str(hs_pct(s["headshots"], k)),
        "K/D Ratio": fmt(kd(k, s["deaths"])),
        "K/R Ratio": fmt(kr(k, rounds)),
        "MVPs": str(s["mvps"]),
        "Triple Kills": str(s["triple_kills"]),
        "Quadro Kills": str(s["quadro_kills"]),
        "Penta Kills": str(s["penta_kills"]),
        "Result": str(result),
    }
    if not league.extended[m]:
        return out
    uc, fc = s["utility_count"], s["flash_count"]
    out.update(
        {
            "ADR": fmt(s["damage"] / rounds, 1),
            "Damage": str(s["damage"]),
            "Double Kills": str(s["double_kills"]),
            "First Kills": str(s["first_kills"]),
            "Entry Count": str(s["entry_count"]),
            "Entry Wins": str(s["entry_wins"]),
            "Match Entry Rate": fmt(s["entry_count"] / rounds),
            "Match Entry Success Rate": fmt(_ratio(s["entry_wins"], s["entry_count"])),
            "1v1Count": str(s["clutch_1v1_count"]),
            "1v1Wins": str(s["clutch_1v1_wins"]),
            "1v2Count": str(s["clutch_1v2_count"]),
            "1v2Wins": str(s["clutch_1v2_wins"]),
            "Match 1v1 Win Rate": fmt(_ratio(s["clutch_1v1_wins"], s["clutch_1v1_count"])),
            "Match 1v2 Win Rate": fmt(_ratio(s["clutch_1v2_wins"], s["clutch_1v2_count"])),
            "Clutch Kills": str(s["clutch_kills"]),
            "Utility Count": str(uc),
            "Utility Successes": str(s["utility_successes"]),
            "Utility Damage": str(s["utility_damage"]),
            "Utility Enemies": str(s["utility_enemies"]),
            "Utility Usage per Round": fmt(uc / rounds),
            "Utility Success Rate per Match": fmt(_ratio(s["utility_successes"], uc)),
            "Utility Damage per Round in a Match": fmt(s["utility_damage"] / rounds),
            "Utility Damage Success Rate per Match": fmt(_ratio(s["utility_damage"], uc)),
            "Flash Count": str(fc),
            "Flash Successes": str(s["flash_successes"]),
            "Enemies Flashed": str(s["enemies_flashed"]),
            "Flash Success Rate per Match": fmt(_ratio(s["flash_successes"], fc)),
            "Flashes per Round in a Match": fmt(fc / rounds),
            "Enemies Flashed per Round in a Match": fmt(s["enemies_flashed"] / rounds),
            "Sniper Kills": str(s["sniper_kills"]),
            "Sniper Kill Rate per Match": fmt(_ratio(s["sniper_kills"], k)),
            "Sniper Kill Rate per Round": fmt(s["sniper_kills"] / rounds),
            "Pistol Kills": str(s["pistol_kills"]),
            "Knife Kills": str(s["knife_kills"]),
            "Zeus Kills": str(s["zeus_kills"]),
        }
    )
    return out


# ---------------------------------------------------------------------------------------------
# players
# ---------------------------------------------------------------------------------------------
def player(league: League, p: int) -> dict[str, Any]:
    pid = league.player_ids[p]
    nick = league.nicknames[p]
    steam = int(league.steam_ids[p])
    acc = steam - 76561197960265728
    elo = int(league.elo[p])
    rng = np.random.default_rng([league.seed, p, 7])
    friends = rng.choice(league.n_players, size=min(8, league.n_players - 1), replace=False)
    premium = bool(league.premium[p])
    cs2 = {
        "region": league.regions[p],
        "game_player_id": str(steam),
        "skill_level": int(elo_to_level(elo)),
        "faceit_elo": elo,
        "game_player_name": nick,
        "skill_level_label": "",
        "regions": {},
        "game_profile_id": "",
    }
    return {
        "player_id": pid,
        "nickname": nick,
        "avatar": league.avatars[p],
        "country": league.countries[p],
        "cover_image": "",
        "platforms": {"steam": f"STEAM_0:{acc % 2}:{acc // 2}"},
        "games": {"cs2": cs2},
        "settings": {"language": "en"},
        "friends_ids": [league.player_ids[int(f)] for f in friends if int(f) != p],
        "new_steam_id": f"[U:1:{acc}]",
        "steam_id_64": str(steam),
        "steam_nickname": nick,
        "memberships": ["free", "premium"] if premium else ["free"],
        "faceit_url": player_url(nick),
        "membership_type": "",
        "cover_featured_image": "",
        "infractions": {},
        "verified": bool(league.verified[p]),
        "activated_at": iso_ms(int(league.activated_at[p]) * 1000),
    }


def search_players(league: League, prefix: str, offset: int, limit: int) -> dict[str, Any]:
    key = prefix.lower()
    lo = bisect.bisect_left(league.search_keys, key)
    hi = bisect.bisect_left(league.search_keys, key + "\U0010ffff")
    hits = [int(i) for i in league.search_order[lo:hi]]
    exact = league.nickname_index.get(prefix)
    if exact is not None and exact in hits:
        hits.remove(exact)
        hits.insert(0, exact)
    items = [
        {
            "player_id": league.player_ids[p],
            "nickname": league.nicknames[p],
            "status": "",
            "games": [{"name": "cs2", "skill_level": str(league.level(p))}],
            "country": league.countries[p].upper(),
            "verified": bool(league.verified[p]),
            "avatar": league.avatars[p],
        }
        for p in hits[offset : offset + limit]
    ]
    return {"items": items, "start": offset, "end": offset + len(items)}


# ---------------------------------------------------------------------------------------------
# history and per-match rows
# ---------------------------------------------------------------------------------------------
def _history_player(league: League, p: int, level: int) -> dict[str, Any]:
    nick = league.nicknames[p]
    return {
        "player_id": league.player_ids[p],
        "nickname": nick,
        "avatar": league.avatars[p],
        "skill_level": level,
        "game_player_id": str(int(league.steam_ids[p])),
        "game_player_name": nick,
        "faceit_url": player_url(nick),
    }


def history_item(league: League, m: int) -> dict[str, Any]:
    mid = league.match_ids[m]
    roster: list[int] = league.mp_player[m].tolist()
    # one vectorized call for the ten levels (numpy per player was most of a page's cost)
    levels: list[int] = elo_to_level(league.elo_before[m]).tolist()
    teams = {}
    for f in (0, 1):
        leader = roster[f * 5]
        teams[f"faction{f + 1}"] = {
            "team_id": league.faction_id(m, f),
            "nickname": team_name(league, m, f),
            "avatar": league.avatars[leader],
            "type": "premade" if league.premade[m, f] else "",
            "players": [
                _history_player(league, roster[slot], levels[slot])
                for slot in range(f * 5, f * 5 + 5)
            ],
        }
    return {
        "match_id": mid,
        "game_id": "cs2",
        "region": REGION,
        "match_type": "",
        "game_mode": "5v5",
        "max_players": 10,
        "teams_size": 5,
        "teams": teams,
        "playing_players": [league.player_ids[p] for p in roster],
        "competition_id": COMPETITION_ID,
        "competition_name": COMPETITION_NAME,
        "competition_type": "matchmaking",
        "organizer_id": "faceit",
        "status": "finished",
        "started_at": int(league.started_at[m]),
        "finished_at": int(league.finished_at[m]),
        "results": {
            "winner": f"faction{int(league.winner[m]) + 1}",
            "score": {"faction1": int(league.score[m, 0]), "faction2": int(league.score[m, 1])},
        },
        "faceit_url": room_url(mid),
    }


def history(
    league: League, p: int, start: int, end: int, offset: int, limit: int
) -> dict[str, Any]:
    """Matches with ``start <= started_at < end``, newest first."""
    matches, _ = league.player_matches(p)
    t = league.started_at[matches]
    lo = int(np.searchsorted(t, start, side="left"))
    hi = int(np.searchsorted(t, end, side="left"))
    window = matches[lo:hi][::-1][offset : offset + limit]
    items = [history_item(league, int(m)) for m in window]
    return {
        "items": items,
        "start": offset,
        "end": offset + len(items),
        "from": start,
        "to": end,
    }


def games_stats_row(league: League, m: int, slot: int) -> dict[str, Any]:
    p = int(league.mp_player[m, slot])
    f = slot // 5
    s = match_player_stats(league, m, slot)
    fin_ms = int(league.finished_at[m]) * 1000
    jitter = int(league.started_at[m] % 997)
    created = fin_ms + 60_000 + jitter
    row: dict[str, Any] = {
        "stats": {
            "K/D Ratio": s["K/D Ratio"],
            "Deaths": s["Deaths"],
            "ADR": s.get("ADR", ""),
            "Headshots %": s["Headshots %"],
            "Best Of": "1",
            "First Half Score": str(int(league.first_half[m, f])),
            "Game": "cs2",
            "Match Finished At": fin_ms,
            "Match Round": "1",
            "Second Half Score": str(int(league.second_half[m, f])),
            "Rounds": str(int(league.rounds[m])),
            "Headshots": s["Headshots"],
            "Winner": league.faction_id(m, int(league.winner[m])),
            "Game Mode": "5v5",
            "Triple Kills": s["Triple Kills"],
            "Match Id": league.match_ids[m],
            "Player Id": league.player_ids[p],
            "Team": team_name(league, m, f),
            "Assists": s["Assists"],
            "Updated At": iso_ms(created + 90_000),
            "Penta Kills": s["Penta Kills"],
            "K/R Ratio": s["K/R Ratio"],
            "Result": s["Result"],
            "Created At": iso_ms(created),
            "MVPs": s["MVPs"],
            "Overtime score": str(int(league.overtime[m, f])),
            "Score": f"{int(league.score[m, 0])} / {int(league.score[m, 1])}",
            "Quadro Kills": s["Quadro Kills"],
            "Map": MAPS[int(league.map_idx[m])],
            "Double Kills": s.get("Double Kills", ""),
            "Damage": s.get("Damage", ""),
            "Competition Id": COMPETITION_ID,
            "Region": REGION,
            "Final Score": str(int(league.score[m, f])),
            "Nickname": league.nicknames[p],
            "Kills": s["Kills"],
        }
    }
    if not league.extended[m]:  # a legacy row has no damage, ADR or double kills at all
        for key in ("ADR", "Damage", "Double Kills"):
            del row["stats"][key]
    return row


def games_stats(league: League, p: int, offset: int, limit: int) -> dict[str, Any]:
    matches, slots = league.player_matches(p)
    sel = np.arange(len(matches))[::-1][offset : offset + limit]
    items = [games_stats_row(league, int(matches[i]), int(slots[i])) for i in sel]
    return {"items": items, "start": offset, "end": offset + len(items)}


# ---------------------------------------------------------------------------------------------
# matches
# ---------------------------------------------------------------------------------------------
def _roster_player(league: League, m: int, slot: int) -> dict[str, Any]:
    p = int(league.mp_player[m, slot])
    nick = league.nicknames[p]
    return {
        "player_id": league.player_ids[p],
        "nickname": nick,
        "avatar": league.avatars[p],
        "membership": "premium" if league.premium[p] else "free",
        "game_player_id": str(int(league.steam_ids[p])),
        "game_player_name": nick,
        "game_skill_level": int(elo_to_level(int(league.elo_before[m, slot]))),
        "anticheat_required": True,
    }


def _location(name: str) -> dict[str, Any]:
    entity = {
        "guid": name,
        "image_lg": f"{_CDN}/flags/v1/{_FLAG[name]}.jpg?width=428&height=212",
        "image_sm": f"{_CDN}/flags/v1/{_FLAG[name]}.jpg?width=110&height=55",
        "name": name,
        "class_name": name,
        "game_location_id": name,
    }
    if name in _LOCATIONS_WITHOUT_ID:
        del entity["game_location_id"]
    return entity


def match(league: League, m: int) -> dict[str, Any]:
    mid = league.match_ids[m]
    teams = {}
    for f in (0, 1):
        leader = int(league.mp_player[m, f * 5])
        teams[f"faction{f + 1}"] = {
            "faction_id": league.faction_id(m, f),
            "leader": league.player_ids[leader],
            "avatar": league.avatars[leader],
            "roster": [_roster_player(league, m, f * 5 + i) for i in range(5)],
            "substituted": False,
            "name": team_name(league, m, f),
            "type": "premade" if league.premade[m, f] else "",
        }
    started = int(league.started_at[m])
    loc = _LOCATIONS[int(league.started_at[m] // 7) % len(_LOCATIONS)]
    map_name = MAPS[int(league.map_idx[m])]
    winner = f"faction{int(league.winner[m]) + 1}"
    s1, s2 = int(league.score[m, 0]), int(league.score[m, 1])
    demo = f"https://demos-europe-central.backblaze.faceit-cdn.net/cs2/{mid}-1-1.dem.zst"
    demos = [] if league.demo_missing[m] else [demo]
    body: dict[str, Any] = {
        "match_id": mid,
        "version": 2,
        "game": "cs2",
        "region": REGION,
        "competition_id": COMPETITION_ID,
        "competition_type": "matchmaking",
        "competition_name": COMPETITION_NAME,
        "organizer_id": "faceit",
        "teams": teams,
        "voting": {
            "location": {
                "entities": [_location(name) for name in _LOCATIONS],
                "pick": [loc],
            },
            "map": {
                "entities": [
                    {
                        "class_name": mp,
                        "game_map_id": mp,
                        "guid": mp,
                        "image_lg": _MAP_IMG[mp][1],
                        "image_sm": _MAP_IMG[mp][0],
                        "name": label,
                    }
                    for mp, label in zip(MAPS, MAP_LABELS, strict=True)
                ],
                "pick": [map_name],
            },
            "voted_entity_types": ["location", "map"],
        },
        "calculate_elo": True,
        "scheduled_at": started - 180,
        "configured_at": started - 120,
        "started_at": started,
        "finished_at": int(league.finished_at[m]),
        "demo_url": demos,
        "chat_room_id": f"match-{mid}",
        "best_of": 1,
        "results": {"winner": winner, "score": {"faction1": s1, "faction2": s2}},
        "detailed_results": [
            {
                "asc_score": True,
                "winner": winner,
                "factions": {"faction1": {"score": s1}, "faction2": {"score": s2}},
            }
        ],
        "status": "FINISHED",
        "round": 1,
        "group": 1,
        "faceit_url": room_url(mid),
        "instances": [{"id": f"{mid}-1-1", "round": 1, "demos": demos}],
    }
    if league.demo_missing[m]:  # no demo uploaded: the key is left out, not an empty list
        del body["demo_url"]
    return body


def match_stats(league: League, m: int) -> dict[str, Any]:
    mid = league.match_ids[m]
    win = int(league.winner[m])
    teams = []
    for f in (0, 1):
        slots = range(f * 5, f * 5 + 5)
        hs = sum(int(league.stats["headshots"][m, s]) for s in slots)
        teams.append(
            {
                "team_id": league.faction_id(m, f),
                "premade": bool(league.premade[m, f]),
                "team_stats": {
                    "Team": team_name(league, m, f),
                    "Team Win": str(int(win == f)),
                    "Team Headshots": fmt(hs / 5),
                    "Overtime score": str(int(league.overtime[m, f])),
                    "First Half Score": str(int(league.first_half[m, f])),
                    "Second Half Score": str(int(league.second_half[m, f])),
                    "Final Score": str(int(league.score[m, f])),
                },
                "players": [
                    {
                        "player_id": league.player_ids[int(league.mp_player[m, s])],
                        "nickname": league.nicknames[int(league.mp_player[m, s])],
                        "player_stats": match_player_stats(league, m, s),
                    }
                    for s in slots
                ],
            }
        )
    return {
        "rounds": [
            {
                "best_of": "1",
                "competition_id": COMPETITION_ID,
                "game_id": "cs2",
                "game_mode": "5v5",
                "match_id": mid,
                "match_round": "1",
                "played": "1",
                "round_stats": {
                    "Winner": league.faction_id(m, win),
                    "Rounds": str(int(league.rounds[m])),
                    "Score": f"{int(league.score[m, 0])} / {int(league.score[m, 1])}",
                    "Map": MAPS[int(league.map_idx[m])],
                    "Region": REGION,
                },
                "teams": teams,
            }
        ]
    }


# ---------------------------------------------------------------------------------------------
# lifetime / per-map stats
# ---------------------------------------------------------------------------------------------
def _aggregate(league: League, ms: np.ndarray, sl: np.ndarray) -> dict[str, Any]:
    """Totals over the given (match, slot) pairs; per-match ratios rounded like the API."""
    g = {k: v[ms, sl].astype(np.int64) for k, v in league.stats.items()}
    rounds = league.rounds[ms].astype(np.int64)
    ext = league.extended[ms]
    kills, deaths = g["kills"], g["deaths"]
    with np.errstate(divide="ignore", invalid="ignore"):
        kd_m = np.round(kills / np.maximum(deaths, 1), 2)
        kr_m = np.round(kills / np.maximum(rounds, 1), 2)
        hs_m = np.where(kills > 0, np.floor(100 * g["headshots"] / np.maximum(kills, 1) + 0.5), 0)
    wins = (league.winner[ms] == sl // 5).astype(np.int64)
    t = {k: int(v[ext].sum()) for k, v in g.items()}
    return {
        "n": len(ms),
        "n_ext": int(ext.sum()),
        "wins": int(wins.sum()),
        "results": wins,
        "rounds": int(rounds.sum()),
        "rounds_ext": int(rounds[ext].sum()),
        "kd_sum": float(kd_m.sum()),
        "kr_sum": float(kr_m.sum()),
        "hs_sum": int(hs_m.sum()),
        "all": {k: int(v.sum()) for k, v in g.items()},
        "ext": t,
    }


def _ext_block(a: dict[str, Any]) -> dict[str, str]:
    t, r = a["ext"], a["rounds_ext"]
    return {
        "Total Matches": str(a["n_ext"]),
        "Total Kills with extended stats": str(t["kills"]),
        "Total Rounds with extended stats": str(r),
        "Total Damage": str(t["damage"]),
        "ADR": fmt(_ratio(t["damage"], r)),
        "Total Entry Count": str(t["entry_count"]),
        "Total Entry Wins": str(t["entry_wins"]),
        "Entry Rate": fmt(_ratio(t["entry_count"], r)),
        "Entry Success Rate": fmt(_ratio(t["entry_wins"], t["entry_count"])),
        "Total 1v1 Count": str(t["clutch_1v1_count"]),
        "Total 1v1 Wins": str(t["clutch_1v1_wins"]),
        "1v1 Win Rate": fmt(_ratio(t["clutch_1v1_wins"], t["clutch_1v1_count"])),
        "Total 1v2 Count": str(t["clutch_1v2_count"]),
        "Total 1v2 Wins": str(t["clutch_1v2_wins"]),
        "1v2 Win Rate": fmt(_ratio(t["clutch_1v2_wins"], t["clutch_1v2_count"])),
        "Total Utility Count": str(t["utility_count"]),
        "Total Utility Successes": str(t["utility_successes"]),
        "Total Utility Damage": str(t["utility_damage"]),
        "Utility Usage per Round": fmt(_ratio(t["utility_count"], r)),
        "Utility Success Rate": fmt(_ratio(t["utility_successes"], t["utility_count"])),
        "Utility Damage per Round": fmt(_ratio(t["utility_damage"], r)),
        "Utility Damage Success Rate": fmt(_ratio(t["utility_damage"], t["utility_count"])),
        "Total Flash Count": str(t["flash_count"]),
        "Total Flash Successes": str(t["flash_successes"]),
        "Total Enemies Flashed": str(t["enemies_flashed"]),
        "Flash Success Rate": fmt(_ratio(t["flash_successes"], t["flash_count"])),
        "Flashes per Round": fmt(_ratio(t["flash_count"], r)),
        "Enemies Flashed per Round": fmt(_ratio(t["enemies_flashed"], r)),
        "Total Sniper Kills": str(t["sniper_kills"]),
        "Sniper Kill Rate": fmt(_ratio(t["sniper_kills"], t["kills"])),
        "Sniper Kill Rate per Round": fmt(_ratio(t["sniper_kills"], r)),
    }


def _streaks(results: np.ndarray) -> tuple[int, int]:
    current = longest = run = 0
    for r in results:
        run = run + 1 if r else 0
        longest = max(longest, run)
    current = run
    return current, longest


def player_stats(league: League, p: int) -> dict[str, Any]:
    ms, sl = league.player_matches(p)
    a = _aggregate(league, ms, sl)
    n = a["n"]
    current, longest = _streaks(a["results"])
    lifetime: dict[str, Any] = {
        "Matches": str(n),
        "Wins": str(a["wins"]),
        "Win Rate %": str(_iround(100 * _ratio(a["wins"], n))),
        "K/D Ratio": fmt(a["kd_sum"]),
        "Average K/D Ratio": fmt(_ratio(a["kd_sum"], n)),
        "Total Headshots %": str(a["hs_sum"]),
        "Average Headshots %": str(_iround(_ratio(a["hs_sum"], n))),
        "Current Win Streak": str(current),
        "Longest Win Streak": str(longest),
        "Recent Results": [str(int(r)) for r in a["results"][-5:]],
    }
    lifetime.update(_ext_block(a))
    segments = []
    maps = league.map_idx[ms]
    for i, (mp, label) in enumerate(zip(MAPS, MAP_LABELS, strict=True)):
        sel = maps == i
        if not sel.any():
            continue
        b = _aggregate(league, ms[sel], sl[sel])
        nb = b["n"]
        al = b["all"]
        st: dict[str, str] = {
            "Matches": str(nb),
            "Wins": str(b["wins"]),
            "Win Rate %": str(_iround(100 * _ratio(b["wins"], nb))),
            "Rounds": str(b["rounds"]),
            "Kills": str(al["kills"]),
            "Deaths": str(al["deaths"]),
            "Assists": str(al["assists"]),
            "Headshots": str(al["headshots"]),
            "MVPs": str(al["mvps"]),
            "Triple Kills": str(al["triple_kills"]),
            "Quadro Kills": str(al["quadro_kills"]),
            "Penta Kills": str(al["penta_kills"]),
            "Average Kills": fmt(_ratio(al["kills"], nb)),
            "Average Deaths": fmt(_ratio(al["deaths"], nb)),
            "Average Assists": fmt(_ratio(al["assists"], nb)),
            "Average MVPs": fmt(_ratio(al["mvps"], nb)),
            "Average Triple Kills": fmt(_ratio(al["triple_kills"], nb)),
            "Average Quadro Kills": fmt(_ratio(al["quadro_kills"], nb)),
            "Average Penta Kills": fmt(_ratio(al["penta_kills"], nb)),
            "Headshots per Match": fmt(_ratio(al["headshots"], nb)),
            "K/D Ratio": fmt(b["kd_sum"]),
            "Average K/D Ratio": fmt(_ratio(b["kd_sum"], nb)),
            "K/R Ratio": fmt(b["kr_sum"]),
            "Average K/R Ratio": fmt(_ratio(b["kr_sum"], nb)),
            "Total Headshots %": str(b["hs_sum"]),
            "Average Headshots %": str(_iround(_ratio(b["hs_sum"], nb))),
        }
        st.update(_ext_block(b))
        segments.append(
            {
                "label": label,
                "img_small": _MAP_IMG[mp][0],
                "img_regular": _MAP_IMG[mp][1],
                "stats": st,
                "type": "Map",
                "mode": "5v5",
            }
        )
    return {
        "player_id": league.player_ids[p],
        "game_id": "cs2",
        "lifetime": lifetime,
        "segments": segments,
    }
