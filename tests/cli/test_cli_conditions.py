"""``shipyard policies simulate --context``, ``principals create --tag``, ``tags`` and
``keys create --expires-in`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.inprocess import shipyard

OFFICE = {
    "Statement": [
        {
            "Sid": "FromTheOffice",
            "Effect": "Allow",
            "Action": "datasets:*",
            "Resource": "*",
            "Condition": {
                "IpAddress": {"sy:SourceIp": "10.0.0.0/8"},
                "StringEquals": {"sy:PrincipalTag/team": "ml"},
            },
        }
    ]
}


def test_simulate_with_context_tags_and_expiring_keys(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (tmp_path / "office.json").write_text(json.dumps(OFFICE))
    steps = [
        ("policies", "put", "office", str(tmp_path / "office.json")),
        ("principals", "create", "ann", "--tag", "team=ml"),
        ("policies", "attach", "ann", "office"),
    ]
    for step in steps:
        done = shipyard(home, *step)
        assert done.returncode == 0, done.stderr

    inside = shipyard(
        home, "policies", "simulate", "ann", "datasets:ReadData", "sy:dataset/churn",
        "--context", "sy:SourceIp=10.1.2.3",
    )  # fmt: skip
    assert inside.returncode == 0, inside.stderr
    assert "allow: ann may datasets:ReadData on sy:dataset/churn" in inside.stdout
    assert "decided by policy office statement 0 (FromTheOffice): Allow" in inside.stdout

    shipyard(home, "tags", "remove", "sy:principal/ann", "team")
    outside = shipyard(
        home, "policies", "simulate", "ann", "datasets:ReadData", "sy:dataset/churn",
        "--context", "sy:SourceIp=10.1.2.3",
    )  # fmt: skip
    assert outside.returncode == 0, outside.stderr
    assert "default_deny" in outside.stdout
    assert "StringEquals sy:PrincipalTag/team ['ml'] does not hold" in outside.stdout

    bad = shipyard(home, "policies", "simulate", "ann", "datasets:ReadData", "sy:dataset/x",
                   "--context", "sy:SourceIP4=1.2.3.4")  # fmt: skip
    assert bad.returncode == 1 and "context.sy:SourceIP4" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1

    key = shipyard(home, "keys", "create", "ann", "--expires-in", "30d")
    assert key.returncode == 0, key.stderr
    assert "expires" in key.stdout
