"""Admin: the model registry (versions, promotion, metrics, training window)."""

from __future__ import annotations

import json

import streamlit as st

from app import auth
from app.resources import get_resources
from app.widgets import table_or_note
from core import crud

auth.require_admin()
resources = get_resources()
st.title("Models")

with resources.sessions() as session:
    versions = crud.model_versions(session)
    rows = [
        {
            "name": v.name,
            "version": v.version,
            "promoted": v.promoted,
            "promoted at": v.promoted_at,
            "metrics": json.dumps(v.metrics, default=str, sort_keys=True)[:500],
            "features": v.feature_version,
            "trained from": v.train_start,
            "trained to": v.train_end,
            "created": v.created_at,
        }
        for v in versions
    ]
table_or_note(rows, "No model trained yet: run `faceit-ai train`.")
