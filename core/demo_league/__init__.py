"""Demo league: a deterministic FACEIT CS2 population served over the real Data API v4 format.

The league is simulated once, vectorised with numpy, and kept as columnar arrays
(:class:`League`); :func:`create_app` serves it in-process as an ASGI app under ``/data/v4`` so
the product's real HTTP client and ingestion run unchanged against it
(``httpx.AsyncClient(transport=demo_transport(), base_url="https://open.faceit.com")``, header
``Authorization: Bearer demo-league``). Same seed => byte-identical responses: no wall clock is
read, every timestamp lies in a span ending at a fixed reference time (default
2026-11-01T00:00:00Z), and JSON is dumped with insertion-ordered keys.

Model
-----
Players
    uuid4-looking ids, unique gamer-tag nicknames (unique even case-insensitively, so a case-
    swapped lookup is a 404), weighted European countries, avatar URLs (20% empty), Steam ids.
    Hidden traits: base skill ~ N(0, 1) drifting over the span as
    ``skill(u) = base + slope*u + amp*sin(2*pi*(freq*u + phase))`` (u in [0, 1] over the span);
    a role (AWP, entry, support, anchor/lurk) that shifts kill share, sniper rate, first-duel
    involvement, survival, utility and flash usage; an affinity N(0, 0.2) per map; a consistency
    (sd of per-match performance noise, 0.15-0.55); a tilt (0-0.5, effective skill drops by
    ``tilt`` in the match after a loss); a headshot rate (~0.47, lower for AWPers); an activity
    weight (lognormal) deciding how often the player queues.
Elo
    Initial Elo = 1050 + 330*skill + N(0, 120), clipped to [100, 3800], so levels 1-10 are all
    populated. After every match each player moves by ``round(50*(result - expected))`` with
    ``expected = 1/(1 + 10^((avg_them - avg_us)/400))`` on the teams' average Elo (floor 100).
    Levels: 1: 100-500, 2: 501-750, 3: 751-900, 4: 901-1050, 5: 1051-1200, 6: 1201-1350,
    7: 1351-1530, 8: 1531-1750, 9: 1751-2000, 10: 2001+.
Joiners
    15% of the players create their account during the span (uniformly between 5% and 85% of
    it): their ``activated_at`` is just before, they queue only from then on (so history before
    it is empty) and they start at FACEIT's 1000 Elo whatever their hidden skill.
Matchmaking
    Matches are made in time-ordered batches of ``n_players // 20`` matches: a pool of distinct
    players who have joined is drawn by activity (Gumbel top-k), sorted by Elo (plus noise) and
    cut into windows of 10, split 5v5 in a snake order (sides randomised). A player is in at most
    one match per batch and batches occupy disjoint time windows, so a player's matches never
    overlap (unless the span is so short that a batch window is under ~75 minutes).
    Maps are uniform over the active duty pool
    (de_mirage, de_inferno, de_nuke, de_ancient, de_anubis, de_dust2, de_train).
Parties
    15% of the players belong to a fixed party of five friends. In each batch an eligible party
    queues together with probability 0.35 and meets the five solo players closest to its average
    Elo; otherwise its members queue solo. The Data API shows parties only for a whole team, so
    that is all the league exposes: team ``type: "premade"`` in /matches/{id} and in history,
    ``premade: true`` in /matches/{id}/stats (about 15% of matches have one premade side). A
    premade plays with +0.15 effective skill (coordination), which the oracle includes.
Result
    Effective skill = skill(t) + map affinity - tilt*(lost previous match) + 0.15*premade.
    Faction1 wins with
    ``p = sigmoid(1.7 * (mean eff faction1 - mean eff faction2))`` (1.7 makes the skill scale
    match the Elo scale). That ``p`` is the oracle (:func:`oracle_win_probability`), never served.
Rounds
    Rounds are simulated per round (vectorised over a batch): MR12, first to 13; at 12-12 MR3
    overtimes (first to 4 of 6, repeated while 3-3). Round winners are drawn with a milder
    logistic; if the simulated winner differs from the drawn match winner, all rounds are
    mirrored, so the score always agrees with the winner.
Per-round events (exact consistency by construction)
    The round winner kills 3-5, the loser 0-4; the kills of a team are split among its players
    (multinomial, weights from performance and role); the same number of players of the other
    team die (each at most once, weighted sampling without replacement). Hence one team's
    kills == the other team's deaths (no suicides or team kills are modelled). Exactly one first
    kill per round (by the loser's side in ~40% of rounds where it has kills); the first duel
    gives both players an Entry Count, the winner an Entry Win and First Kill. MVP: the round
    winners' top fragger (team MVPs == team rounds won). Multi-kills are counted from per-round
    kills. Clutches: a team's last player alive (the survivor of a team with 4 deaths, or the
    last to die of a wiped team) faced ``5 - (kills of his team before)`` enemies; 1v1/1v2
    situations are counted, won when his team won the round; clutch kills = his kills in the
    round capped by the enemies faced.
Per-match stats
    Pistol kills: kills in the two pistol rounds + a few eco kills; sniper (role based), knife and
    zeus kills are disjoint binomial draws from the other kills; headshots ~ Bin(kills - knife -
    zeus, hs rate). Damage = kills*U(72, 100) + rounds*Gamma (ADR ~ 74, mean K/D ~ 1.1,
    HS% ~ 45); assists ~ Bin(team kills - own kills, ~7%); utility and flash counts are Poisson
    per round by role with binomial successes (enemies >= successes, utility damage <= damage).
    Ratios are formatted like the API: K/D = kills/max(deaths, 1), K/R = kills/rounds (2
    decimals), ADR = damage/rounds (1 decimal), HS% integer, rates 2 decimals.
Extended stats
    Matches started before ``extended_since`` (default 2024-08-01; the default span of 1100 days
    starts 2023-10-28, so about a quarter of the matches) are legacy: their ``player_stats`` in
    ``/matches/{id}/stats`` carry only the 12 classic keys (Kills, Deaths, Assists, Headshots,
    Headshots %, K/D and K/R Ratio, MVPs, Triple/Quadro/Penta Kills, Result) and their
    ``/games/cs2/stats`` rows lack ADR, Damage and Double Kills: the keys are absent, not "0"
    (the real lifetime "ADR" is "Total Damage" / "Total Rounds with extended stats"). Lifetime
    "Matches" counts every match and "Total Matches" only extended ones; the ``Total ...``,
    ``ADR`` and rate fields are over extended matches only. ``match_players_frame()`` holds
    nulls for those stats on legacy matches.
Fields sometimes missing
    As the real API: the UK location entity of ``voting`` has no ``game_location_id`` (as in the
    reference match.json); 4% of matches have no ``demo_url`` (demo never uploaded); 20% of
    players have an empty avatar.

API notes (see :func:`create_app`)
    ``limit`` outside 1..100 or a negative/non-integer ``offset`` -> 400 (history: ``offset`` above
    1000 -> 400), error body ``{"errors":[{"message":..., "code":"err_br0"}]}``; unknown ids,
    nicknames (exact, case-sensitive) or games -> the reference 404 body; missing/wrong Bearer key
    -> 401. History ``from`` is inclusive and ``to`` exclusive on ``started_at`` (default
    ``to`` = the league end time); ``start``/``end`` in envelopes are ``offset`` and
    ``offset + len(items)``. "Recent Results" is oldest first (last = most recent).
    Search is a case-insensitive prefix match, exact nickname first, then alphabetical.
"""

from .app import DEFAULT_API_KEYS, Faults, TokenBucket, create_app, dumps
from .server import default_league, demo_transport, serve
from .sim import (
    MAPS,
    ROLES,
    STAT_COLUMNS,
    League,
    elo_to_level,
    generate_league,
    lineup_oracle,
    oracle_win_probability,
)

__all__ = [
    "DEFAULT_API_KEYS",
    "MAPS",
    "ROLES",
    "STAT_COLUMNS",
    "Faults",
    "League",
    "TokenBucket",
    "create_app",
    "default_league",
    "demo_transport",
    "dumps",
    "elo_to_level",
    "generate_league",
    "lineup_oracle",
    "oracle_win_probability",
    "serve",
]
