"""Hostile and mangled requests get a 4xx, never a 5xx, and the server keeps answering."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import numpy as np
import pandas as pd
from servingkit import MODEL

ODD_VALUES: list[Any] = [
    None,
    True,
    "1.5",
    "",
    [],
    [1.0],
    {},
    {"a": 1},
    2**70,
    -(2**70),
    1e308,
    -0.0,
    "\u0000",
    "x" * 500,
]


def _mangle(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """Replace, drop or wrap a random part of a JSON value."""
    if depth > 4 or rng.random() < 0.15:
        return rng.choice(ODD_VALUES)
    if isinstance(value, dict) and value:
        mangled = dict(value)
        key = rng.choice(list(mangled))
        action = rng.random()
        if action < 0.2:
            del mangled[key]
        elif action < 0.3:
            mangled[f"{key}_x"] = mangled[key]
        else:
            mangled[key] = _mangle(mangled[key], rng, depth + 1)
        return mangled
    if isinstance(value, list) and value:
        mangled_list = list(value)
        index = rng.randrange(len(mangled_list))
        action = rng.random()
        if action < 0.2:
            del mangled_list[index]
        elif action < 0.3:
            mangled_list.append(mangled_list[index])
        else:
            mangled_list[index] = _mangle(mangled_list[index], rng, depth + 1)
        return mangled_list
    return rng.choice(ODD_VALUES)


def test_mangled_payloads_never_break_the_server(
    client: httpx.Client, cancer: tuple[pd.DataFrame, np.ndarray]
) -> None:
    rows = cancer[0].iloc[:3]
    valid: list[tuple[str, Any]] = [
        ("/invocations", {"dataframe_split": rows.to_dict("split")}),
        ("/invocations", {"dataframe_records": rows.to_dict("records")}),
        ("/invocations", {"instances": rows.to_numpy().tolist()}),
        ("/invocations", {"inputs": rows.to_dict("list")}),
        (
            f"/v2/models/{MODEL}/infer",
            {
                "id": "a",
                "inputs": [
                    {"name": c, "shape": [3], "datatype": "FP64", "data": rows[c].tolist()}
                    for c in rows.columns
                ],
            },
        ),
        (
            f"/v2/models/{MODEL}/infer",
            {
                "inputs": [
                    {
                        "name": "m",
                        "shape": [3, 30],
                        "datatype": "FP64",
                        "data": rows.to_numpy().tolist(),
                    }
                ]
            },
        ),
    ]
    rng = random.Random(20240607)
    statuses: dict[int, int] = {}
    for _ in range(600):
        path, payload = rng.choice(valid)
        response = client.post(path, content=json.dumps(_mangle(payload, rng)))
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (path, response.text)
        if response.status_code >= 400:
            error = response.json()["error"]
            if path.startswith("/v2/"):
                assert isinstance(error, str) and error, response.text
            else:
                assert error["type"] and error["message"], response.text
    assert statuses.get(400, 0) > 100
    for _ in range(50):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        assert client.post("/invocations", content=junk).status_code == 400
    assert client.get("/ping").status_code == 200
