"""``shipyard automl`` refuses bad input in one line naming the field, and stores nothing."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import shipyard


def test_bad_input_ends_in_one_line_naming_the_field(tmp_path: Path) -> None:
    home = tmp_path / "home"
    started = shipyard(home, "automl", "churn@1", "--target", "y", "--budget", "5s")
    assert started.returncode == 1
    assert started.stderr.strip().splitlines() == ["error: budget: must be between 10 s and 7 days"]
