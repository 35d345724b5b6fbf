"""log_model from anywhere: every framework is serialized on the client in a safe format,
registered, served by a real endpoint and (a code model) scored by a batch transform."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LinearRegression
from tests.conftest import LiveServer
from tests.flavors.modelkit import CASES, COLUMNS, WEIGHTS, code_model, table

from shipyard.client import Client
from shipyard.endpoints import build_serving_app
from shipyard.errors import InvalidInput
from shipyard.flavors import MODEL_META
from shipyard.flavors._infer import build_signature
from shipyard.platform import Platform
from shipyard.security import CachedKeyAuthorizer


@pytest.fixture
def local(platform: Platform) -> Iterator[Client]:
    client = Client(settings=platform.settings)
    yield client
    client.close()


@pytest.mark.parametrize("case_name", sorted(CASES))
def test_each_framework_logs_registers_and_serves(
    case_name: str, platform: Platform, local: Client, admin_key: str
) -> None:
    x, y = table()
    case = CASES[case_name](x, y)
    with local.start_run(experiment="log-model") as run:
        logged = run.log_model(case.model, **case.options)
    assert logged.flavor == case.flavor
    assert [c.name for c in logged.signature.inputs] == COLUMNS
    assert logged.artifacts[-1].path == MODEL_META  # meta last: a cut upload is not registrable
    version = local.models.register("m", run.id)
    assert version.flavor == case.flavor
    assert (version.code_digest is not None) == case.needs_code
    assert version.code_registered_by == ("admin" if case.needs_code else None)

    local.endpoints.create("ep", "m@1")
    app = build_serving_app(platform, "ep")
    live = LiveServer(app)
    try:
        rows = x.iloc[100:120]
        body = {"dataframe_split": rows.to_dict(orient="split", index=False)}
        answer = httpx.post(
            f"{live.url}/invocations",
            json=body,
            headers={"Authorization": f"Bearer {admin_key}"},
            timeout=30,
        )
    finally:
        live.close()
        assert isinstance(app.authorizer, CachedKeyAuthorizer)
        app.authorizer.stop()
    assert answer.status_code == 200, answer.text
    expected = case.reference(rows)
    assert np.allclose(np.asarray(answer.json()["predictions"], dtype=float), expected)


def test_log_model_and_register_over_both_transports(client: Client) -> None:
    x, _ = table()
    with client.start_run(experiment="anywhere") as run:
        pass
    logged = client.log_model(
        run.id, code_model(), input_example=x.head(), task="regression", name="scored"
    )
    assert logged.version is not None and logged.version.ref == "scored@1"
    assert logged.version.code_digest == logged.code_digest
    card = client.models.version("scored@1")
    assert card.code_digest == logged.code_digest and card.code_registered_by == "admin"
    files = {a.path for a in client.tracking.get_run(run.id).artifacts}
    assert {
        "model/code/scorer.py",
        "model/code/helpers.py",
        "model/artifacts/weights.npy",
        "model/artifacts/config.json",
        "model/model.bin",
        "model/meta.json",
    } <= files


def test_a_code_model_is_batch_scored(platform: Platform, local: Client, tmp_path: Path) -> None:
    x, _ = table()
    csv = tmp_path / "rows.csv"
    x.head(300).to_csv(csv, index=False)
    local.datasets.ingest(csv, "rows")
    with local.start_run(experiment="batch") as run:
        run.log_model(code_model(bias=2.0), input_example=x.head(), task="regression")
    local.models.register("coded", run.id)
    job = local.batch.transform("coded@1", "rows@1", "scored", chunk_rows=100, timeout=240)
    assert job.status == "succeeded"
    from shipyard.datasets import find_version, load_version_table

    with platform.db.session() as session:
        version = find_version(session, "scored", 1)
    output = load_version_table(platform, version).to_pandas()
    expected = x.head(300).to_numpy() @ WEIGHTS + 2.0
    assert np.allclose(output["prediction"].to_numpy(), expected)


def test_signature_from_numpy_arrow_or_given() -> None:
    x, _ = table()
    numbers = x.to_numpy()
    model = LinearRegression().fit(numbers, numbers[:, 0])
    common: dict[str, Any] = {"signature": None, "task": None, "classes": None, "target": "y"}
    from_numpy = build_signature(model, input_example=numbers[:3], **common)
    assert from_numpy.input_names == ["x0", "x1", "x2", "x3"]
    assert from_numpy.task == "regression"
    arrow = pa.table({"a": [1, 2], "b": ["u", "v"], "c": [True, False]})
    from_arrow = build_signature(model, input_example=arrow, **common)
    assert [(c.name, c.type) for c in from_arrow.inputs] == [
        ("a", "integer"),
        ("b", "string"),
        ("c", "boolean"),
    ]
    given = build_signature(model, input_example=None, **(common | {"signature": from_arrow}))
    assert given == from_arrow
    with pytest.raises(InvalidInput) as missing:
        build_signature(model, input_example=None, **common)
    assert missing.value.field == "input_example"
    with pytest.raises(InvalidInput) as no_task:
        build_signature(object(), input_example=arrow, **common)
    assert no_task.value.field == "task"
