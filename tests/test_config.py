"""``Settings()`` and ``load_settings()`` agree on the home, whatever the environment says."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import Settings, load_settings


def test_both_take_the_home_from_shipyard_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "elsewhere"))
    assert Settings().home == load_settings().home == tmp_path / "elsewhere"
    assert Settings().metadata_url == load_settings().metadata_url
    assert Settings(home=tmp_path / "given").home == tmp_path / "given"


def test_both_default_to_the_user_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SHIPYARD_HOME", raising=False)
    monkeypatch.delenv("SHIPYARD_CONFIG", raising=False)
    assert Settings().home == load_settings().home == tmp_path / ".shipyard"


def test_an_explicit_environment_is_the_only_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "process"))
    given = {"SHIPYARD_HOME": str(tmp_path / "given")}
    assert load_settings(given).home == tmp_path / "given"
    assert load_settings({}).home == tmp_path / ".shipyard"
