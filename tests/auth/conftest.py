from __future__ import annotations

import pytest

from core import auth


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap bcrypt cost in tests (the production cost is 12)."""
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
