"""The bugs of issue 13, each asserted on what the user sees (AppTest on the trained demo league):
chart data and encodings, the score's text, the arrow's direction, a tab's input surviving,
labels instead of keys, defaults from the player being viewed, refresh with "last updated"."""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd
import pyarrow as pa
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from app import present
from core.db.engine import make_engine, make_session_factory
from core.settings import get_settings
from models.dashboard import player_overview
from tests.app.test_premium_pages import open_as_premium, premium  # noqa: F401

# a stat key or map id where a label belongs: utility_dpr, kd_last10, de_mirage
RAW_KEY = re.compile(
    r"\b(" + "|".join(k for k in present.STAT_LABELS if "_" in k) + r"|de_[a-z0-9]+)\b"
)


def charts(at: AppTest) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """Every Altair chart of the page: its Vega-Lite spec and its (first) dataset."""
    out = []
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        data = pa.ipc.open_stream(element.proto.datasets[0].data.data).read_pandas()
        out.append((spec, data))
    return out


def title_of(spec: dict[str, Any]) -> str:
    layers = spec.get("layer", [])
    title = spec.get("title") or next((layer.get("title") for layer in layers), "")
    return title if isinstance(title, str) else str(title.get("text", ""))


def shown_text(at: AppTest) -> str:
    parts = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def summary_of(player_id: str) -> dict[str, Any]:
    engine = make_engine(get_settings().effective_database_url)
    from core.cache import FeatureCache

    overview = player_overview(make_session_factory(engine), FeatureCache(None), player_id)
    engine.dispose()
    return overview.summary


def test_improvement_forecast_has_one_point_per_match_and_a_true_caption(
    premium: dict[str, Any],  # noqa: F811
) -> None:
    at = open_as_premium(premium, "views/improvement.py")
    found = {title_of(spec): (spec, data) for spec, data in charts(at)}
    spec, data = found["Likely Elo after each of the next matches"]
    assert data["Match"].tolist() == list(range(1, 21)), "x is the match number 1..20"
    layer = spec["layer"][0]["encoding"]
    assert layer["x"]["title"] == "Matches from now" and layer["y"]["title"] == "Elo"
    assert (data["Low (p10)"] <= data["Expected (p50)"]).all()
    assert (data["Expected (p50)"] <= data["High (p90)"]).all()
    caption = " ".join(c.value for c in at.caption)
    assert "model's win probabilities" not in caption and "win rate over the last 20" in caption
    # percentile chart: human labels, titled
    spec, data = next((s, d) for s, d in charts(at) if "percentile" in title_of(s).lower())
    assert not any(RAW_KEY.search(label) for label in data["Stat"]), data["Stat"].tolist()
    assert "Utility damage per round" in data["Stat"].tolist()
    # every stat is drawn, a percentile of 0 too (a dot on a 0-100 track, not a zero-width bar)
    dots = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")
    assert dots["encoding"]["x"]["field"] == "Percentile"
    assert dots["encoding"]["x"]["scale"]["domain"] == [0, 100]
    focus = "\n".join(m.value for m in at.markdown if m.value.startswith("- "))
    assert focus and "Adr is" not in focus and not RAW_KEY.search(focus), focus


def test_the_match_id_survives_an_error_in_the_lineup_tab(
    premium: dict[str, Any],  # noqa: F811
) -> None:
    at = open_as_premium(premium, "views/predictor.py")
    at.text_input(key="predict_id").input("1-typed-before-the-error")
    name = premium["nicknames"][0]
    at.multiselect(key="predict_a").set_value([name])
    at.multiselect(key="predict_b").set_value([name])
    at.button(key="predict_lineups").click().run()
    assert not at.exception, at.exception
    assert "cannot play on both teams" in at.error[0].value
    assert at.text_input(key="predict_id").value == "1-typed-before-the-error"


def test_overview_scores_from_the_players_side_and_honest_arrows(
    premium: dict[str, Any],  # noqa: F811
) -> None:
    # a player whose K/D over the last 10 is below the lifetime K/D
    dropped = None
    for nickname in premium["nicknames"]:
        from core import crud

        engine = make_engine(get_settings().effective_database_url)
        with make_session_factory(engine)() as session:
            player = crud.find_player(session, nickname)
        engine.dispose()
        assert player is not None
        summary = summary_of(player.id)
        if summary["kd_last10"] < summary["kd_lifetime"] - 0.05:
            dropped = (player.id, summary)
            break
    assert dropped is not None, "the demo league has a player in a slump"
    player_id, summary = dropped
    at = AppTest.from_file(premium["app"], default_timeout=90)
    at.session_state["player_id"] = player_id
    at.run()
    at.switch_page("views/player.py").run()
    assert not at.exception, at.exception

    kd = next(m for m in at.metric if m.label == "K/D")
    assert kd.value == present.stat_value("kd", summary["kd_lifetime"])
    assert kd.proto.delta.startswith("-") and kd.proto.direction == Metric.MetricDirection.DOWN

    table = at.dataframe[-1].value  # Last matches
    for score, result in zip(table["Score"], table["Result"], strict=True):
        own, other = (int(x) for x in score.split(" – "))
        assert (own > other) == (result == "Win"), f"{score} shown for a {result}"
    assert all(when.endswith("ago") or when == "just now" for when in table["When"])
    assert not any(m.startswith("de_") for m in table["Map"])
    assert re.search(r"Last updated from FACEIT: (just now|.+ ago)", shown_text(at))


def test_refresh_from_faceit_is_rate_limited_per_user(
    premium: dict[str, Any],  # noqa: F811
) -> None:
    at = open_as_premium(premium, "views/player.py")
    at.button(key="refresh_player").click().run()
    assert not at.exception, at.exception
    assert any("Up to date" in s.value for s in at.success), shown_text(at)
    at.button(key="refresh_player").click().run()
    assert any("try again in" in w.value for w in at.warning), shown_text(at)


def test_maps_chart_and_table_agree_and_name_maps_as_players_do(
    premium: dict[str, Any],  # noqa: F811
) -> None:
    at = open_as_premium(premium, "views/maps.py")
    ((spec, data),) = charts(at)
    table = at.dataframe[0].value
    assert spec["encoding"]["x"]["sort"] == table["Map"].tolist(), "same order in both"
    assert data["Map"].tolist() == table["Map"].tolist()
    assert table["Matches"].tolist() == sorted(table["Matches"], reverse=True)
    assert not any(m.startswith("de_") for m in table["Map"])
    assert title_of(spec) and spec["encoding"]["y"]["title"] == "Win rate"
    assert all(re.fullmatch(r"\d+%", v) for v in table["Win rate"])
    assert all(re.fullmatch(r"\d+\.\d\d", v) for v in table["K/D"])


def test_playstyle_reads_like_a_sentence_without_z_scores(
    premium: dict[str, Any],  # noqa: F811
) -> None:
    at = open_as_premium(premium, "views/playstyle.py")
    title = at.title[0].value
    assert re.fullmatch(
        r".+ plays like (an AWPer|an entry fragger|a support|an anchor|a rifler)", title
    )
    text = shown_text(at)
    assert "distance" not in text.lower() and "(z)" not in text
    table = at.dataframe[0].value
    assert list(table.columns)[:3] == ["Stat", "Value", "Compared with everyone"]
    assert not any(RAW_KEY.search(s) for s in table["Stat"])


def test_premium_pages_default_to_the_viewed_players_match(
    premium: dict[str, Any],  # noqa: F811
) -> None:
    nickname = premium["player"]["nickname"]
    at = open_as_premium(premium, "views/predictor.py")
    team = at.multiselect(key="predict_a").value
    assert team[0] == nickname and len(team) == 5
    opponents = at.multiselect(key="predict_b").value
    assert len(opponents) == 5 and nickname not in opponents
    assert at.query_params["player"] in (nickname, [nickname]), "the URL names the viewed player"
    at.switch_page("views/veto.py").run()
    assert at.multiselect(key="veto_a").value == team
    at.switch_page("views/scouting.py").run()
    assert at.multiselect(key="scout_team").value == opponents
    at.switch_page("views/compare.py").run()
    assert at.multiselect[0].value == [nickname]
