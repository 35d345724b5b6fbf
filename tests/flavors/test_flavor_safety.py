"""Loading refuses tampered, foreign and malicious artifacts before any of their code can run."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pytest
import skops.io
import xgboost
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from shipyard.errors import IntegrityError, InvalidInput, UnsafeArtifact
from shipyard.flavors import FLAVORS, TRUSTED_TYPES, artifact_digest, load_predictor, save_model


class _Payload:
    """Unpickling this runs ``exec`` of a statement that creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _load(flavor: str, data: bytes, signature: Any) -> Any:
    return load_predictor(flavor, data, signature, expected_digest=artifact_digest(data))


def _run_python(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def _skops_with_payload(model: Any, module: str, function: str, argument: str) -> bytes:
    """A genuine skops model with an extra attribute built by calling ``module.function``."""
    archive = zipfile.ZipFile(io.BytesIO(skops.io.dumps(model)))
    schema = json.loads(archive.read("schema.json"))
    arguments = json.loads(
        zipfile.ZipFile(io.BytesIO(skops.io.dumps((argument,)))).read("schema.json")
    )
    for key in ("protocol", "_skops_version"):
        arguments.pop(key)
    key_types = schema["content"]["key_types"]["content"]
    key_types.append(dict(key_types[0]))
    schema["content"]["content"]["calibration"] = {
        "__class__": function,
        "__module__": module,
        "__loader__": "ConstructorFromReduceNode",
        "content": arguments,
        "__id__": 1,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as rebuilt:
        for name in archive.namelist():
            data = json.dumps(schema) if name == "schema.json" else archive.read(name)
            rebuilt.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def fitted_logistic(breast_cancer: tuple[np.ndarray, np.ndarray]) -> LogisticRegression:
    x, y = breast_cancer
    return LogisticRegression(max_iter=50).fit(x[:, :3], y)


def test_raw_pickle_payload_is_live_but_refused_by_every_flavor(
    tmp_path: Path, numeric_signature: Any
) -> None:
    proof = tmp_path / "proof"
    _run_python(f"import pickle; pickle.loads({pickle.dumps(_Payload(proof))!r})")
    assert proof.exists(), "control: the payload really runs when unpickled"

    marker = tmp_path / "marker"
    payload = pickle.dumps(_Payload(marker))
    for flavor in FLAVORS:
        with pytest.raises(UnsafeArtifact, match="pickle"):
            _load(flavor, payload, numeric_signature(3, [0, 1]))
    assert not marker.exists()


@pytest.mark.parametrize(
    ("module", "function", "template"),
    [
        ("os", "system", "touch {marker}"),
        ("builtins", "exec", "open({marker!r}, 'w').close()"),
        ("builtins", "eval", "open({marker!r}, 'w').close()"),
    ],
)
def test_skops_archive_calling_a_dangerous_function_is_refused(
    tmp_path: Path,
    fitted_logistic: LogisticRegression,
    numeric_signature: Any,
    module: str,
    function: str,
    template: str,
) -> None:
    proof = tmp_path / "proof"
    live = tmp_path / "live.skops"
    live.write_bytes(
        _skops_with_payload(fitted_logistic, module, function, template.format(marker=str(proof)))
    )
    _run_python(
        f"import skops.io as s; d = open({str(live)!r}, 'rb').read(); "
        "s.loads(d, trusted=s.get_untrusted_types(data=d))"
    )
    assert proof.exists(), "control: skops runs the payload when told to trust everything"

    marker = tmp_path / "marker"
    data = _skops_with_payload(
        fitted_logistic, module, function, template.format(marker=str(marker))
    )
    with pytest.raises(UnsafeArtifact, match=f"{module}.{function}"):
        _load("sklearn", data, numeric_signature(3, [0, 1]))
    assert not marker.exists()


def test_tampered_artifact_fails_its_digest_before_loading(
    fitted_logistic: LogisticRegression, numeric_signature: Any
) -> None:
    flavor, data = save_model(fitted_logistic)
    digest = artifact_digest(data)
    tampered = data[:-1] + bytes([data[-1] ^ 1])

    with pytest.raises(IntegrityError, match="hash"):
        load_predictor(flavor, tampered, numeric_signature(3, [0, 1]), expected_digest=digest)


def test_wrong_flavor_and_unknown_flavor_are_refused(
    fitted_logistic: LogisticRegression, numeric_signature: Any
) -> None:
    _, data = save_model(fitted_logistic)
    signature = numeric_signature(3, [0, 1])

    with pytest.raises(IntegrityError, match="not a lightgbm model"):
        _load("lightgbm", data, signature)
    with pytest.raises(IntegrityError, match="not a xgboost model"):
        _load("xgboost", data, signature)
    with pytest.raises(InvalidInput) as caught:
        _load("pickle", data, signature)
    assert caught.value.field == "flavor"


def test_zip_that_is_not_a_skops_archive_is_refused(numeric_signature: Any) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("data.pkl", pickle.dumps({"weights": [1, 2]}))

    with pytest.raises(IntegrityError, match="skops"):
        _load("sklearn", out.getvalue(), numeric_signature(3, [0, 1]))


def _tree_with_out_of_range_child(x: np.ndarray, y: np.ndarray) -> bytes:
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y)
    state = tree.tree_.__getstate__()
    nodes = state["nodes"].copy()
    nodes["left_child"][0] = 10**6
    state["nodes"] = nodes
    tree.tree_.__setstate__(state)
    return skops.io.dumps(tree)


def test_decision_tree_with_out_of_range_child_is_refused(
    breast_cancer: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = breast_cancer
    data = _tree_with_out_of_range_child(x, y)

    with pytest.raises(UnsafeArtifact, match="child index"):
        _load("sklearn", data, numeric_signature(x.shape[1], [0, 1]))


def test_decision_tree_splitting_on_a_missing_feature_is_refused(
    breast_cancer: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = breast_cancer
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y)
    state = tree.tree_.__getstate__()
    state["nodes"] = state["nodes"].copy()
    state["nodes"]["feature"][0] = 500
    tree.tree_.__setstate__(state)

    with pytest.raises(UnsafeArtifact, match="feature outside"):
        _load("sklearn", skops.io.dumps(tree), numeric_signature(x.shape[1], [0, 1]))


def test_lightgbm_text_with_out_of_range_feature_is_refused(
    breast_cancer: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = breast_cancer
    model = lightgbm.LGBMClassifier(n_estimators=3, verbose=-1, n_jobs=1).fit(x, y)
    text = model.booster_.model_to_string()
    head, tree_line, rest = text.partition("\nsplit_feature=")
    values = rest.split("\n", 1)
    bad = head + tree_line + " ".join(["4000", *values[0].split()[1:]]) + "\n" + values[1]

    with pytest.raises(UnsafeArtifact, match="feature outside"):
        _load("lightgbm", bad.encode(), numeric_signature(x.shape[1], [0, 1]))


def test_xgboost_json_with_out_of_range_child_is_refused(
    breast_cancer: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = breast_cancer
    model = xgboost.XGBClassifier(n_estimators=3, max_depth=2, n_jobs=1).fit(x, y)
    document = json.loads(model.get_booster().save_raw("json"))
    document["learner"]["gradient_booster"]["model"]["trees"][1]["left_children"][0] = 10**6

    with pytest.raises(UnsafeArtifact, match="child index"):
        _load("xgboost", json.dumps(document).encode(), numeric_signature(x.shape[1], [0, 1]))


def test_artifact_for_another_signature_is_refused(
    breast_cancer: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = breast_cancer
    model = lightgbm.LGBMClassifier(n_estimators=3, verbose=-1, n_jobs=1).fit(x, y)
    flavor, data = save_model(model)

    with pytest.raises(IntegrityError, match="features"):
        _load(flavor, data, numeric_signature(4, [0, 1]))
    with pytest.raises(IntegrityError, match="does not fit a regression"):
        _load(flavor, data, numeric_signature(x.shape[1], None))


def test_trusted_types_are_an_explicit_short_list() -> None:
    assert "sklearn.tree._tree.Tree" in TRUSTED_TYPES
    assert not any(
        name.startswith(("builtins.", "os.", "posix.", "subprocess.")) for name in TRUSTED_TYPES
    )
    assert len(TRUSTED_TYPES) < 10
