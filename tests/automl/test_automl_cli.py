"""``shipyard automl`` refuses bad input in one line naming the field (the real entry point,
in this process), and ``shipyard automl JOB-COMMAND`` still reaches the job commands."""

from __future__ import annotations

import pytest

from shipyard.cli._main import main


def test_a_bad_budget_ends_in_one_line_naming_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["automl", "churn@1", "--target", "y", "--budget", "5s"]) == 1
    assert capsys.readouterr().err == "error: budget: must be between 10 s and 7 days\n"
    assert main(["automl", "leaderboard", "--help"]) == 0
    assert "ranked families" in capsys.readouterr().out
