"""Data capture, shadow copies and feedback, written by the data plane and read back."""

from __future__ import annotations

import re
from datetime import timedelta

import orjson
import sqlalchemy as sa
from dataplanekit import register_three, rows, serving, wait_for

from shipyard.client import Client
from shipyard.endpoints import variant_metrics
from shipyard.platform import Platform
from shipyard.serving import ServingSettings, read_captures
from shipyard.store.metadata import endpoint_tables as et


def _files(platform: Platform) -> list[et.CaptureFile]:
    with platform.db.session() as session:
        return list(session.scalars(sa.select(et.CaptureFile)))


def test_captures_shadow_answers_and_feedback_survive_a_clean_shutdown(platform: Platform) -> None:
    register_three(platform)
    settings = ServingSettings(poll_seconds=0.05, report_seconds=0.2, capture_flush_rows=10)
    with Client(settings=platform.settings) as client:
        client.endpoints.create(
            "cap",
            variants=[{"name": "blue", "model": "bc-model@1"}],
            shadow={"name": "twin", "model": "bc-model@3", "percent": 100},
            capture={"enabled": True, "sampling_percent": 100, "mode": "both"},
        )
        ids: list[str] = []
        with serving(platform, "cap", settings) as served, served.client() as http:
            for i in range(25):
                response = http.post("/invocations", json={"instances": rows(1, i)})
                assert response.status_code == 200
                ids.append(response.headers["x-request-id"])
            wide = http.post("/invocations", json={"instances": rows(3, 100)})
            assert wide.status_code == 200
            wait_for(lambda: len(_files(platform)) >= 2)  # flushed every 10 records

            feedback = [{"request_id": r, "label": i % 2} for i, r in enumerate(ids)]
            posted = http.post("/feedback", json=feedback)
            assert posted.status_code == 202
            assert posted.json()["accepted"] == 25
            assert http.post("/feedback", json=[]).status_code == 400
            missing = http.post("/feedback", json=[{"request_id": "x"}])
            assert missing.status_code == 400
            assert missing.json()["error"]["field"] == "body[0].label"

            info = client.endpoints.configure("cap", capture={"enabled": True, "mode": "input"})
            wait_for(lambda: served.app.config.generation == info.generation)
            late = http.post(
                "/invocations", json={"instances": rows(1)}, headers={"X-Request-Id": "late-1"}
            )
            assert late.status_code == 200

        table = read_captures(platform, "cap")
        records = table.to_pylist()
        live = [r for r in records if r["variant"] == "blue"]
        shadow = [r for r in records if r["variant"] == "twin"]
        assert len(live) == 27 and len(shadow) == 27
        assert {r["request_id"] for r in live} == {*ids, wide.headers["x-request-id"], "late-1"}
        assert {r["request_id"] for r in shadow} == {r["request_id"] for r in live}
        first = next(r for r in live if r["request_id"] == ids[0])
        assert first["model_version"] == 1
        assert first["time"].tzinfo is not None
        document = orjson.loads(first["input"])
        assert len(document["columns"]) == 30 and document["data"] == rows(1, 0)
        output = orjson.loads(first["output"])
        assert output["prediction"] in (0, 1) and len(output["probabilities"]) == 2
        many = next(r for r in live if r["request_id"] == wide.headers["x-request-id"])
        assert len(orjson.loads(many["output"])["prediction"]) == 3
        lately = next(r for r in live if r["request_id"] == "late-1")
        assert lately["output"] is None and lately["input"] is not None

        earliest = min(r["time"] for r in records)
        assert read_captures(platform, "cap", since=earliest).num_rows == len(records)
        later = earliest + timedelta(hours=2)
        assert read_captures(platform, "cap", since=later).num_rows == 0
        assert read_captures(platform, "cap", since=earliest.timestamp() + 7200).num_rows == 0

        files = _files(platform)
        assert sum(f.rows for f in files) == len(records)
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d", f.hour) for f in files)

        with platform.db.session() as session:
            labels = dict(
                session.execute(sa.select(et.Feedback.request_id, et.Feedback.label)).all()
            )
            stats = variant_metrics(session, "cap")
        assert labels == {r: i % 2 for i, r in enumerate(ids)}
        assert stats["twin"].shadow_comparisons == 29  # rows: 25 + 3 + 1
        assert stats["twin"].shadow_agreement == 1.0  # v3 is the same model as v1
        assert stats["blue"].requests == 27

        report = client.endpoints.compare("cap")
        blue = next(v for v in report.variants if v.name == "blue")
        assert blue.quality is not None and blue.quality.n == 25
