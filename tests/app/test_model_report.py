"""The free Model report page: the champion's scores and its reliability chart's data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine, make_session_factory
from core.db.schema import ModelVersion
from core.settings import get_settings
from models import registry
from tests.app.test_premium_pages import premium  # noqa: F401
from tests.app.test_product_voice import charts


def test_model_report_shows_the_reliability_of_the_champion(premium: dict[str, Any]) -> None:  # noqa: F811
    at = AppTest.from_file(premium["app"], default_timeout=90)  # a visitor: the page is free
    at.run()
    at.switch_page("views/model_report.py").run()
    assert not at.exception, at.exception
    engine = make_engine(get_settings().effective_database_url)
    with make_session_factory(engine)() as session:
        champion = session.scalars(
            select(ModelVersion).where(
                ModelVersion.promoted, ModelVersion.name == registry.MATCH_OUTCOME
            )
        ).one()
        stored = champion.metrics
    engine.dispose()
    ((spec, data),) = charts(at)
    bins = [b for b in stored["reliability"] if b["n"]]
    # one connected line through the bins and a circle per bin sized by its matches: a size
    # channel on a line splits it into one line per distinct count (invisible single points)
    marks = {}
    for layer in spec["layer"]:
        mark = layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        marks.setdefault(mark, []).append(layer.get("encoding", {}))
    assert all("size" not in enc for enc in marks["line"])
    assert [enc["size"]["field"] for enc in marks["circle"]] == ["Matches"]
    assert {enc["x"]["field"] for enc in marks["circle"]} == {"Predicted"}
    # one point per non-empty bin, at its mean prediction and observed win rate, sized by count
    assert list(data["Matches"]) == [b["n"] for b in bins]
    assert list(data["Predicted"].round(6)) == [round(b["mean_p"], 6) for b in bins]
    assert list(data["Observed"].round(6)) == [round(b["win_rate"], 6) for b in bins]
    assert sum(data["Matches"]) == stored["n"]
    table = at.dataframe[0].value
    assert list(table["Predictor"])[:3] == [
        "This model",
        "XGBoost (previous model)",
        "FACEIT Elo formula",
    ]
    assert f"v{champion.version}" in at.markdown[0].value
    assert {m.label: m.value for m in at.metric}["Predictions served"] == "0"
