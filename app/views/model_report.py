"""Model report (free): the match-outcome model's version, windows, held-out scores next to the
FACEIT Elo formula and the oracle, its reliability curve, and the live record of what it served."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app.resources import get_resources
from models.model_report import match_outcome_report

CONTENDERS = {
    "model": "This model",
    "xgboost": "XGBoost (previous model)",
    "elo": "FACEIT Elo formula",
    "oracle": "Oracle (demo league's true odds)",
}

resources = get_resources()
st.title("Model report")
with resources.sessions() as session:
    report = match_outcome_report(session)
if report is None:
    st.info("No match-outcome model has been trained yet: an operator runs `faceit-ai train`.")
    st.stop()


def _day(iso: str | None) -> str:
    return iso[:10] if iso else "–"


st.markdown(
    f"**Match-outcome model v{report['version']}** ({report['learner']}), trained on matches "
    f"from {_day(report['training_window']['start'])} to {_day(report['training_window']['end'])}."
    f" Scored on the newest matches, {_day(report['evaluation_window']['start'])} to "
    f"{_day(report['evaluation_window']['end'])}, which neither training nor the choice of "
    "champion used."
)

st.subheader("Held-out scores")
rows = []
for key, label in CONTENDERS.items():
    m = report["metrics"].get(key)
    if m:
        rows.append(
            {
                "Predictor": label,
                "Log loss": m.get("logloss"),
                "AUC": m.get("auc"),
                "Accuracy": m.get("accuracy"),
                "Calibration error": m.get("ece"),
            }
        )
st.dataframe(
    rows,
    hide_index=True,
    width="stretch",
    column_config={
        "Log loss": st.column_config.NumberColumn(format="%.4f"),
        "AUC": st.column_config.NumberColumn(format="%.3f"),
        "Accuracy": st.column_config.NumberColumn(format="percent"),
        "Calibration error": st.column_config.NumberColumn(format="%.3f"),
    },
)
st.caption("Lower log loss and calibration error are better; higher AUC and accuracy are better.")

st.subheader("Reliability")
bins = [b for b in report["reliability"] if b["n"]]
if bins:
    curve = pl.DataFrame(
        {
            "Predicted": [b["mean_p"] for b in bins],
            "Observed": [b["win_rate"] for b in bins],
            "Matches": [b["n"] for b in bins],
            "Bin": [f"{b['low']:.0%}-{b['high']:.0%}" for b in bins],
        }
    ).to_pandas()
    diagonal = (
        alt.Chart(pl.DataFrame({"Predicted": [0.0, 1.0], "Observed": [0.0, 1.0]}).to_pandas())
        .mark_line(strokeDash=[4, 4], color="gray")
        .encode(x="Predicted:Q", y="Observed:Q")
    )
    x = alt.X("Predicted:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))
    y = alt.Y("Observed:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))
    # one line through the bins, and a circle per bin sized by its matches (a size channel on
    # the line itself would split it into one invisible line per distinct count)
    base = alt.Chart(curve, title="Predicted win probability vs how often the team won")
    line = base.mark_line().encode(x=x, y=y)
    points = base.mark_circle(opacity=0.9).encode(
        x=x,
        y=y,
        size=alt.Size("Matches:Q", title="Matches", scale=alt.Scale(range=[40, 600])),
        tooltip=[
            "Bin",
            "Matches",
            alt.Tooltip("Predicted:Q", format=".1%"),
            alt.Tooltip("Observed:Q", format=".1%"),
        ],
    )
    st.altair_chart(line + points + diagonal, width="stretch")
    st.caption(
        "Each point is one probability bin of the held-out matches (its size: the number of "
        "matches); on the dashed line the predicted and observed rates agree."
    )

st.subheader("Live record")
live = report["live"]
cols = st.columns(3)
cols[0].metric("Predictions served", f"{live['served']:,}")
cols[1].metric("Matches finished", f"{live['finished']:,}")
cols[2].metric("Log loss so far", f"{live['logloss']:.3f}" if live["logloss"] is not None else "–")
if live["accuracy"] is not None:
    st.caption(
        f"Of {live['finished']:,} finished matches the favourite won {live['accuracy']:.0%}; "
        f"Brier score {live['brier']:.3f}. {live['pending']:,} still to be played."
    )
else:
    st.caption(
        "Every prediction served for a match before it is played is stored once per model "
        "version and scored here when the result comes in. None has finished yet."
    )
