"""``--tag KEY=VALUE`` on ``models create``, ``experiments create`` and ``datasets ingest``:
the tags are on the new resource, and a malformed one is a one-line error naming it. Each
command runs through the CLI's ``main`` in this process (``tests.cli.inprocess``)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.inprocess import shipyard


def test_create_commands_take_tags(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = tmp_path / "small.csv"
    data.write_text("a,b\n1,x\n2,y\n")
    steps = [
        ("models", "create", "churn", "--tag", "team=ml", "--tag", "stage=dev"),
        ("experiments", "create", "churn-exp", "--tag", "team=ml"),
        ("datasets", "ingest", str(data), "--name", "small", "--tag", "team=ml"),
    ]
    for step in steps:
        done = shipyard(home, *step)
        assert done.returncode == 0, done.stderr
    for resource, tags in [
        ("sy:model/churn", {"stage": "dev", "team": "ml"}),
        ("sy:experiment/churn-exp", {"team": "ml"}),
        ("sy:dataset/small", {"team": "ml"}),
    ]:
        listed = shipyard(home, "tags", "list", resource, "--json")
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)["tags"] == tags

    bad = shipyard(home, "models", "create", "other", "--tag", "team")
    assert bad.returncode == 1 and "tags" in bad.stderr and "KEY=VALUE" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    shown = shipyard(home, "models", "show", "other")
    assert shown.returncode == 1
