"""An ONNX variant beside the native one: both answer, pinned or split, with matching scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from dataplanekit import embedded, expected, register_three, rows, serving

from shipyard.client import Client
from shipyard.edge import export_model
from shipyard.security import context_for


def test_onnx_and_native_variants_of_one_version_answer_alike(tmp_path: Path) -> None:
    with embedded(tmp_path) as platform, Client(settings=platform.settings) as client:
        register_three(platform)
        export_model(context_for(platform, "admin"), "bc-model@1")
        client.endpoints.create(
            "edge",
            variants=[
                {"name": "native", "model": "bc-model@1", "weight": 1},
                {"name": "onnx", "model": "bc-model@1", "weight": 1, "runtime": "onnx"},
            ],
        )
        with serving(platform, "edge") as served, served.client() as http:
            config = served.app.config
            assert config.by_name["onnx"].slot.platform == "onnx"
            assert config.by_name["native"].slot.platform == "lightgbm"
            truth = expected(20, 20)
            for name in ("native", "onnx"):
                response = http.post(
                    "/invocations",
                    json={"instances": rows(20)},
                    headers={"X-Shipyard-Variant": name},
                )
                assert response.status_code == 200, response.text
                assert response.headers["x-shipyard-variant"] == name
                assert response.headers["x-shipyard-model-version"] == "1"
                scores = np.array(response.json()["probabilities"])[:, 1]
                assert np.allclose(scores, truth, atol=1e-4)
