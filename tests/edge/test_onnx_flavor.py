"""The onnx flavor loads only checked, self-contained ONNX models that fit the signature."""

from __future__ import annotations

import pickle

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from shipyard.errors import IntegrityError, UnsafeArtifact
from shipyard.flavors import ColumnSpec, ModelSignature, artifact_digest, load_predictor

SIGNATURE = ModelSignature(
    inputs=[ColumnSpec(name="a", type="float"), ColumnSpec(name="b", type="float")],
    task="regression",
    target="y",
)


def _linear(*, domain: str = "", external: bool = False, width: int = 2) -> bytes:
    """``variable = input @ w``: a tiny valid regression model."""
    weights = helper.make_tensor("w", TensorProto.DOUBLE, [width, 1], [0.5] * width)
    if external:
        weights.data_location = TensorProto.EXTERNAL
        weights.ClearField("double_data")
        entry = weights.external_data.add()
        entry.key, entry.value = "location", "../../etc/passwd"
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "w"], ["variable"], domain=domain)],
        "linear",
        [helper.make_tensor_value_info("input", TensorProto.DOUBLE, [None, width])],
        [helper.make_tensor_value_info("variable", TensorProto.DOUBLE, [None, 1])],
        initializer=[weights],
    )
    opsets = [helper.make_opsetid("", 17)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    return model.SerializeToString()


def _load(data: bytes, signature: ModelSignature = SIGNATURE) -> object:
    return load_predictor("onnx", data, signature, expected_digest=artifact_digest(data))


def test_a_valid_model_predicts_one_row_and_many() -> None:
    predictor = _load(_linear())
    assert predictor.fast_path  # type: ignore[attr-defined]
    one = predictor.predict(np.array([[2.0, 4.0]]))  # type: ignore[attr-defined]
    np.testing.assert_allclose(one.predictions, [3.0])
    many = predictor.predict(np.ones((7, 2)))  # type: ignore[attr-defined]
    assert many.predictions.shape == (7,)


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"definitely not onnx", IntegrityError, "not a valid ONNX model"),
        (pickle.dumps({"a": 1}), UnsafeArtifact, "pickle"),
        (_linear(domain="com.evil"), UnsafeArtifact, "custom operator domains"),
        (_linear(external=True), UnsafeArtifact, "external file"),
        (_linear(width=3), IntegrityError, "does not take rows of 2 numbers"),
    ],
)
def test_refuses_what_is_not_a_safe_fitting_onnx_model(
    data: bytes, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        _load(data)


def test_digest_is_checked_before_parsing() -> None:
    data = _linear()
    with pytest.raises(IntegrityError, match="hash to"):
        load_predictor("onnx", data, SIGNATURE, expected_digest=artifact_digest(data + b"x"))


def test_classifier_needs_probabilities_for_its_classes() -> None:
    classifier = SIGNATURE.model_copy(update={"task": "classification", "classes": [0, 1]})
    with pytest.raises(IntegrityError, match="no numeric 'probabilities' output"):
        _load(_linear(), classifier)
    assert onnx.load_model_from_string(_linear()).graph.output[0].name == "variable"
