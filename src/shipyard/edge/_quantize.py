"""Dynamic int8 quantization of an ONNX model's MatMul/Gemm weights with onnxruntime."""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from pathlib import Path

import onnx

from shipyard.errors import InvalidInput

QUANTIZED_OPS = frozenset(
    {"DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul", "DequantizeLinear"}
)


def quantize(model_bytes: bytes, scratch: Path) -> bytes | None:
    """The model with int8 weights, or None when it has no weights quantization can shrink.

    Tree ensembles and the linear ML operators carry no MatMul/Gemm weights, so
    they come back as None rather than as an unchanged copy.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(dir=scratch) as work:
        source, target = Path(work) / "model.onnx", Path(work) / "model.int8.onnx"
        source.write_bytes(model_bytes)
        quiet = io.StringIO()
        level = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)
        try:
            with contextlib.redirect_stdout(quiet):
                quantize_dynamic(
                    source,
                    target,
                    weight_type=QuantType.QInt8,
                    extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
                )
        except ValueError:
            return None
        except Exception as exc:  # the quantizer raises many types for graphs it cannot handle
            raise InvalidInput(f"dynamic quantization failed: {exc}", field="quantize") from None
        finally:
            logging.getLogger().setLevel(level)
        quantized = target.read_bytes()
    ops = {node.op_type for node in onnx.load_model_from_string(quantized).graph.node}
    return quantized if ops & QUANTIZED_OPS else None
