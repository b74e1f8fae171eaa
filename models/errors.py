"""The errors of the analyses a user can act on, in a module that imports nothing heavy: free
pages (Compare's head-to-head) raise and catch them without loading XGBoost, scikit-learn or
SciPy (tests/app/test_imports.py)."""

from __future__ import annotations


class AnalysisError(ValueError):
    """A reason the analysis cannot be made that the user can act on."""


class UnknownSubject(AnalysisError, LookupError):
    """A player or match that is not in the database."""


class ModelNotTrained(AnalysisError):
    """No promoted model yet: an operator has to train one."""


class IncompatibleModel(ValueError):
    """A stored model artifact built on another feature version than this code computes: its
    inputs would mean something else, so it is refused rather than served."""
