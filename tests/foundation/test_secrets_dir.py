"""Settings read from a secrets directory (compose / Kubernetes secrets mounted as files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings

KEY = "k" * 40


def test_secrets_come_from_files_any_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "SECRET_KEY").write_text(KEY + "\n")
    (tmp_path / "stripe_webhook_secret").write_text("whsec_from_file")
    (tmp_path / "database_url").write_text("postgresql://faceit:p%40ss@db:5432/faceit\n")
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings(_env_file=None, environment="production")
    assert settings.secret_key is not None and settings.secret_key.get_secret_value() == KEY
    assert settings.stripe_webhook_secret is not None
    assert settings.stripe_webhook_secret.get_secret_value() == "whsec_from_file"
    # validated like the variable: the driver is filled in
    assert settings.database_url.startswith("postgresql+psycopg://faceit:")
    assert KEY not in repr(settings)


def test_environment_wins_over_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret_key").write_text(KEY)
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "e" * 40)
    settings = load_settings(_env_file=None)
    assert settings.secret_key is not None and settings.secret_key.get_secret_value() == "e" * 40


def test_a_bad_secret_file_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret_key").write_text("changeme")
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(_env_file=None, environment="production")


def test_a_missing_secrets_dir_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path / "nope"))
    with pytest.raises(SettingsError, match="SECRETS_DIR"):
        load_settings(_env_file=None)
