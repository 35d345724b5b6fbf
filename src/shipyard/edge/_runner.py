"""Run a Shipyard edge package with nothing but onnxruntime and numpy.

    python run.py rows.csv            # CSV with a header row
    python run.py rows.json           # a JSON list of objects, {"rows": [...]}, or JSON lines
    python run.py - < rows.json       # the same on standard input

Prints one JSON object per row: the prediction, and class probabilities for
classifiers. Every file of the package is checked against manifest.json first.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

HERE = Path(__file__).resolve().parent
_TRUE = {"true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0}


class PackageError(Exception):
    """The package or the rows cannot be used."""


def load_package(root: Path = HERE) -> tuple[dict[str, Any], bytes]:
    """The signature and the model bytes, after checking every file's SHA-256 digest."""
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    contents: dict[str, bytes] = {}
    for name, entry in manifest["files"].items():
        if "/" in name or "\\" in name or name.startswith("."):
            raise PackageError(f"manifest names an unexpected file {name!r}")
        data = (root / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise PackageError(f"{name} does not match its digest in manifest.json")
        contents[name] = data
    signature = json.loads(contents["signature.json"])
    return signature, contents["model.onnx"]


def read_rows(text: str, name: str) -> list[dict[str, Any]]:
    """Rows from CSV (by file suffix) or JSON: a list, {"rows": [...]}, or one object a line."""
    if name.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(text)))
    stripped = text.strip()
    if not stripped:
        return []
    try:
        loaded = json.loads(stripped)
    except json.JSONDecodeError:
        loaded = [json.loads(line) for line in stripped.splitlines() if line.strip()]
    if isinstance(loaded, dict):
        loaded = loaded.get("rows", [loaded])
    if not isinstance(loaded, list) or not all(isinstance(r, dict) for r in loaded):
        raise PackageError("JSON input must be objects keyed by column name")
    return loaded


def _number(value: Any, column: str) -> float:
    if value is None or value == "":
        return math.nan
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return _TRUE[lowered]
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PackageError(f"column {column!r} must hold numbers, got {value!r}") from None


def feeds(signature: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The model's inputs for ``rows``, in the layout recorded in signature.json."""
    spec = signature["onnx"]
    columns = signature["inputs"]
    missing = sorted({c["name"] for c in columns} - set().union(*(r.keys() for r in rows)))
    if missing:
        raise PackageError(f"rows lack the input columns {missing}")
    dtype = np.float64 if spec["precision"] == "float64" else np.float32
    if spec["layout"] == "matrix":
        matrix = [[_number(row.get(c["name"]), c["name"]) for c in columns] for row in rows]
        return {spec["input"]: np.asarray(matrix, dtype=dtype).reshape(len(rows), len(columns))}
    out: dict[str, np.ndarray] = {}
    for column in columns:
        name = column["name"]
        if column["type"] == "string":
            text = ["" if row.get(name) is None else str(row.get(name)) for row in rows]
            out[name] = np.asarray(text, dtype=object).reshape(-1, 1)
        else:
            values = [_number(row.get(name), name) for row in rows]
            out[name] = np.asarray(values, dtype=dtype).reshape(-1, 1)
    return out


def predict(
    session: Any, signature: dict[str, Any], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One result object per row."""
    if not rows:
        return []
    (output,) = session.run([signature["onnx"]["output"]], feeds(signature, rows))
    values = np.asarray(output, dtype=np.float64)
    classes = signature.get("classes")
    if signature["task"] != "classification" or not classes:
        return [{"prediction": float(v)} for v in values.reshape(-1)]
    results = []
    for probabilities in values:
        best = int(np.argmax(probabilities))
        results.append(
            {
                "prediction": classes[best],
                "probabilities": {str(c): float(probabilities[i]) for i, c in enumerate(classes)},
            }
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score rows with this edge package.")
    parser.add_argument("rows", help="a .csv or .json file of rows, or - for standard input")
    args = parser.parse_args(argv)
    try:
        signature, model = load_package()
        session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
        if args.rows == "-":
            text, name = sys.stdin.read(), "stdin.json"
        else:
            text, name = Path(args.rows).read_text(encoding="utf-8"), args.rows
        for result in predict(session, signature, read_rows(text, name)):
            print(json.dumps(result))
    except (PackageError, OSError, KeyError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
