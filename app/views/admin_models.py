"""Admin: the model registry (versions, promotion, metrics, training window)."""

from __future__ import annotations

import json

import streamlit as st
from sqlalchemy import select

from app import auth
from app.resources import get_resources
from core.db.schema import ModelVersion

auth.require_admin()
resources = get_resources()

st.title("Models")

with resources.sessions() as session:
    rows = session.execute(
        select(
            ModelVersion.name,
            ModelVersion.version,
            ModelVersion.promoted,
            ModelVersion.promoted_at,
            ModelVersion.metrics,
            ModelVersion.feature_version,
            ModelVersion.train_start,
            ModelVersion.train_end,
            ModelVersion.created_at,
        ).order_by(ModelVersion.name, ModelVersion.version.desc())
    ).all()

if not rows:
    st.caption("No model trained yet: run the training pipeline.")
else:
    st.dataframe(
        [
            {
                "name": row.name,
                "version": row.version,
                "promoted": row.promoted,
                "promoted at": row.promoted_at,
                "metrics": json.dumps(row.metrics, default=str, sort_keys=True)[:500],
                "features": row.feature_version,
                "trained from": row.train_start,
                "trained to": row.train_end,
                "created": row.created_at,
            }
            for row in rows
        ],
        hide_index=True,
        width="stretch",
    )
