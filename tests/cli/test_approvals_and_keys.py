"""``shipyard models approve|reject --reason``, ``models approvals`` and ``keys list``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.inprocess import shipyard
from tests.evaluation import kit

from shipyard.client import Client
from shipyard.config import Settings


def test_decisions_keep_their_reason_and_keys_are_listed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Client(settings=Settings(home=home)) as client:
        frame = kit.cancer_frame()
        kit.ingest(client, tmp_path, frame, "cancer-data")
        kit.register(client, tmp_path, "cancer", *kit.fit_classifier(frame, "label", 2), "label")
        client.iam.create_principal("robot", kind="service")
        key = client.iam.create_api_key("robot")

    rejected = shipyard(home, "models", "reject", "cancer@1", "--reason", "recall too low")
    assert rejected.returncode == 0, rejected.stderr
    assert "cancer@1: Rejected (recall too low)" in rejected.stdout
    too_long = shipyard(home, "models", "approve", "cancer@1", "--reason", "x" * 1001)
    assert too_long.returncode == 1 and "reason" in too_long.stderr
    assert len(too_long.stderr.strip().splitlines()) == 1
    history = shipyard(home, "models", "approvals", "cancer@1", "--json")
    assert history.returncode == 0, history.stderr
    assert [(d["status"], d["reason"]) for d in json.loads(history.stdout)] == [
        ("Rejected", "recall too low")
    ]

    listed = shipyard(home, "keys", "list", "robot")
    assert listed.returncode == 0, listed.stderr
    assert key.key_id in listed.stdout and key.token and key.token not in listed.stdout
    missing = shipyard(home, "keys", "list", "nobody")
    assert missing.returncode == 1 and "nobody" in missing.stderr
