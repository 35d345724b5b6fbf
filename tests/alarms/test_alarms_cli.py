"""``shipyard alarms`` and ``shipyard scheduler`` as a user runs them: the one-shot commands
through the CLI's ``main`` in this process (``tests.deploy.test_deploy_cli.shipyard``), the
scheduler and the server as real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from tests.cli.conftest import Processes, free_port, processes, wait_answering
from tests.deploy.test_deploy_cli import shipyard
from tests.endpoints.endpointkit import MODEL, register_versions, write_stats

from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap
from shipyard.store.metadata import alarm_tables as at
from shipyard.store.metadata import scheduling_tables as st

__all__ = ["processes"]


def _home(tmp_path: Path) -> tuple[Path, Platform]:
    home = tmp_path / "home"
    platform = Platform.open(Settings(home=home))
    bootstrap(platform)
    register_versions(platform, 1)
    created = shipyard(home, "endpoints", "create", "bc", "--model", f"{MODEL}@1")
    assert created.returncode == 0, created.stderr
    return home, platform


def test_create_list_show_history_delete(tmp_path: Path) -> None:
    home, platform = _home(tmp_path)
    rule = ["--source", "endpoint:bc", "--metric", "error_rate", "--threshold", "0.05"]
    refused = shipyard(
        home, "alarms", "create", "errors", *rule, "--webhook", "http://198.51.100.7/x"
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: actions.0.url: host '198.51.100.7' is not in")
    assert len(refused.stderr.strip().splitlines()) == 1
    created = shipyard(
        home, "alarms", "create", "errors", *rule, "--period", "1m", "--periods", "5",
        "--datapoints", "3", "--rollback", "bc",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "3 of 5 datapoints of 60 s, at least 30 samples each" in created.stdout
    listed = shipyard(home, "alarms", "list")
    assert "errors" in listed.stdout and "INSUFFICIENT_DATA" in listed.stdout
    shown = json.loads(shipyard(home, "alarms", "show", "errors", "--json").stdout)
    assert shown["actions"] == [{"kind": "rollback", "endpoint": "bc", "on": ["ALARM"]}]
    history = shipyard(home, "alarms", "history", "errors")
    assert "created" in history.stdout
    assert shipyard(home, "alarms", "delete", "errors").returncode == 0
    missing = shipyard(home, "alarms", "show", "errors")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    platform.close()


def test_the_scheduler_evaluates_alarms_until_interrupted(tmp_path: Path) -> None:
    home, platform = _home(tmp_path)
    created = shipyard(
        home, "alarms", "create", "busy", "--source", "endpoint:bc", "--metric", "requests",
        "--threshold", "10", "--period", "10s",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    for offset in (0, 10):  # this window and the next, whichever the first period holds
        write_stats(
            platform, "bc", "primary", requests=500, window_start=time.time() // 10 * 10 + offset
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "scheduler", "--poll", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        state = "INSUFFICIENT_DATA"
        while state != "ALARM" and time.monotonic() < deadline and process.poll() is None:
            with platform.db.session() as session:
                state = session.scalar(sa.select(at.Alarm.state))
            time.sleep(0.1)
        assert state == "ALARM"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "scheduler stopped" in out
    platform.close()


def test_shipyard_server_runs_the_scheduler(tmp_path: Path, processes: Processes) -> None:
    home, platform = _home(tmp_path)
    created = shipyard(
        home, "alarms", "create", "busy", "--source", "endpoint:bc", "--metric", "requests",
        "--threshold", "10", "--period", "10s",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    port = free_port()
    server = processes.start(home, "server", "--port", str(port))
    wait_answering(server, f"http://127.0.0.1:{port}/healthz")
    deadline = time.monotonic() + 60
    done: list[str] = []
    while not done and time.monotonic() < deadline and server.poll() is None:
        with platform.db.session() as session:
            done = list(
                session.scalars(
                    sa.select(st.ScheduleWindow.status).where(st.ScheduleWindow.kind == "alarm")
                )
            )
        time.sleep(0.1)
    assert done and set(done) <= {"running", "succeeded"}
    platform.close()
