"""The Streamlit app's resources: one ``core.resources.Resources`` per process, from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from core.refresh import RefreshLimiter
from core.resources import Resources
from core.settings import get_settings

if TYPE_CHECKING:
    from models.analysis import AnalysisModels


@st.cache_resource(show_spinner=False)
def get_resources() -> Resources:
    return Resources.from_settings(get_settings())


def get_models() -> AnalysisModels:
    """The promoted models of this process (re-checked every 30 s, so promotions show up).

    Imported here, not at the top: XGBoost, scikit-learn and SciPy take seconds to import, and
    only the premium pages need them, so the free pages (and a fresh app's first page) do not
    wait for them.
    """
    from models.analysis import AnalysisModels

    return AnalysisModels.of(get_resources())


@st.cache_resource(show_spinner=False)
def get_refresh_limiter() -> RefreshLimiter:
    """The per-user limits of "refresh from FACEIT" (shared through Redis when configured)."""
    return RefreshLimiter(get_settings().redis_url)
