"""Right-sizing: load-test a private copy of a tiny endpoint in two configurations."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.endpoints.dataplanekit import booster, embedded, register, rows, serving

from shipyard.client import Client
from shipyard.cost import recommend_configuration
from shipyard.errors import AccessDenied, Conflict
from shipyard.platform import Platform
from shipyard.security import context_for
from shipyard.serving import ServingSettings
from shipyard.store.metadata import cost_tables as ct
from shipyard.store.metadata import endpoint_tables as et

NO_CAPTURE = {
    "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "endpoints:ReadCapture", "Resource": "sy:endpoint/tiny"},
    ]
}


def _counts(platform: Platform) -> list[int | None]:
    with platform.db.session() as session:
        return list(
            session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in (
                et.CaptureFile,
                et.EndpointInstance,
                et.Deployment,
                ct.EndpointUsageSample,
            )
        )


def test_recommend_replays_the_capture_on_a_private_copy(tmp_path: Path) -> None:
    with embedded(tmp_path) as platform, Client(settings=platform.settings) as client:
        register(platform, booster(3))
        client.endpoints.create(
            "tiny", model="bc-model@1", capture={"enabled": True, "sampling_percent": 100}
        )
        quick = ServingSettings(poll_seconds=0.05, report_seconds=0.2, capture_flush_rows=5)
        with serving(platform, "tiny", quick) as served, served.client() as http:
            for i in range(12):
                answer = http.post("/invocations", json={"instances": rows(1 + i % 3, i)})
                assert answer.status_code == 200
        before = _counts(platform)

        found = client.cost.recommend(
            "tiny",
            target_p99_ms=60_000,
            workers=[1],
            batch_sizes=[0, 8],
            seconds=1.0,
            concurrency=2,
        )

        assert found.request_mix == "capture" and found.requests_in_mix == 12
        assert [(c.workers, c.max_batch_size) for c in found.candidates] == [(1, 0), (1, 8)]
        for candidate in found.candidates:
            assert candidate.requests > 0 and candidate.errors == 0
            assert 0 < candidate.p50_ms <= candidate.p99_ms
            assert candidate.memory_mb > 0 and candidate.cost_per_hour > 0
            assert candidate.meets_target
        assert found.recommended is not None
        assert found.recommended.cost_per_hour == min(c.cost_per_hour for c in found.candidates)
        assert _counts(platform) == before  # the copy captured, registered and reported nothing

        from typer.testing import CliRunner

        from shipyard.cli._context import STATE
        from shipyard.cli._main import app

        STATE._client, saved = client, STATE._client
        try:
            command = "endpoints recommend tiny --target-p99 60s --workers 1 --batch-size 4"
            shown = CliRunner().invoke(app, [*command.split(), "--seconds", "0.3"])
        finally:
            STATE._client = saved
        assert shown.exit_code == 0, shown.output
        assert "recommended: 1 worker(s), batching up to 4 rows" in shown.output

        # replaying the capture reads it: a principal refused that is refused the whole call
        client.iam.create_principal("tuner")
        client.iam.put_policy("tuner-policy", NO_CAPTURE)
        client.iam.attach_policy("tuner", "tuner-policy")
        with pytest.raises(AccessDenied, match="endpoints:ReadCapture"):
            recommend_configuration(context_for(platform, "tuner"), "tiny", workers=[1])


def test_recommend_needs_requests_to_replay(tmp_path: Path) -> None:
    with embedded(tmp_path) as platform, Client(settings=platform.settings) as client:
        register(platform, booster(3))
        client.endpoints.create("bare", model="bc-model@1")
        with pytest.raises(Conflict, match="no captured requests"):
            client.cost.recommend("bare", workers=[1], batch_sizes=[0], seconds=0.5)
