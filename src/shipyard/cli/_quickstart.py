"""``shipyard quickstart``: CSV to a secured, serving endpoint on the embedded default."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from shipyard.cli._context import STATE
from shipyard.cli._output import console, table
from shipyard.cli._servers import (
    bound_port,
    check_bind,
    open_platform,
    run_servers,
    start_in_thread,
    uvicorn_server,
)
from shipyard.errors import Conflict, NotFound

if TYPE_CHECKING:
    from shipyard.client import Client
    from shipyard.schemas.registry import ModelVersionInfo

DATASET = "breast-cancer"
MODEL = "breast-cancer"
ENDPOINT = "breast-cancer"
CALLER = "quickstart-caller"

_SPLIT = {"kind": "holdout", "test_size": 0.25, "seed": 42, "stratify": True}
SPECS: list[dict[str, Any]] = [
    {
        "name": "lightgbm",
        "dataset": DATASET,
        "target": "diagnosis",
        "task": "classification",
        "estimator": "lightgbm.LGBMClassifier",
        "params": {"n_estimators": 100, "learning_rate": 0.05, "num_leaves": 15},
        "split": _SPLIT,
        "experiment": "quickstart",
    },
    {
        "name": "logistic-regression",
        "dataset": DATASET,
        "target": "diagnosis",
        "task": "classification",
        "estimator": "sklearn.pipeline",
        "params": {
            "steps": [
                {"estimator": "sklearn.preprocessing.StandardScaler"},
                {
                    "estimator": "sklearn.linear_model.LogisticRegression",
                    "params": {"C": 1.0, "max_iter": 1000},
                },
            ]
        },
        "split": _SPLIT,
        "experiment": "quickstart",
    },
]


def write_breast_cancer_csv(path: Path) -> Path:
    """scikit-learn's bundled breast-cancer data as CSV, snake_case columns, labelled target."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns=lambda c: re.sub(r"\W+", "_", c.strip()).lower())
    frame["diagnosis"] = frame.pop("target").map(dict(enumerate(bunch.target_names)))
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def _champion(versions: list[ModelVersionInfo]) -> ModelVersionInfo:
    return max(
        versions, key=lambda v: (v.metrics.get("roc_auc", 0.0), v.metrics.get("accuracy", 0.0))
    )


def _ensure_caller(client: Client) -> str:
    """A service principal that may only invoke the quickstart endpoint; returns a fresh key."""
    with contextlib.suppress(Conflict):
        client.iam.create_principal(CALLER, kind="service")
    client.iam.put_policy(
        "QuickstartInvoke",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["endpoints:Invoke", "endpoints:Describe"],
                    "Resource": [f"sy:endpoint/{ENDPOINT}"],
                }
            ]
        },
    )
    client.iam.attach_policy(CALLER, "QuickstartInvoke")
    token = client.iam.create_api_key(CALLER).token
    assert token is not None
    return token


def quickstart(
    serve: Annotated[
        bool, typer.Option("--serve", help="Keep the servers running afterwards.")
    ] = False,
    port: Annotated[
        int | None, typer.Option(help="Endpoint port with --serve (default 8080).")
    ] = None,
    api_port: Annotated[
        int | None, typer.Option(help="Control-plane port with --serve (default 8000).")
    ] = None,
) -> None:
    """Ingest bundled data, train two models, register the better as champion, and serve it."""
    import httpx

    from shipyard.api import create_app
    from shipyard.client import Client
    from shipyard.endpoints import build_serving_app
    from shipyard.security import issue_admin_key_if_none

    started = time.monotonic()
    settings = STATE.settings
    host = settings.host
    port = (settings.serving_port if port is None else port) if serve else 0
    api_port = (settings.port if api_port is None else api_port) if serve else 0
    if serve:
        check_bind(host, port, False)
        check_bind(host, api_port, False)
    platform = open_platform()
    client = Client(settings=settings)
    csv_path = write_breast_cancer_csv(settings.home / "quickstart" / "breast_cancer.csv")
    console.print(f"[bold]1/5[/] wrote {csv_path}")
    dataset = client.datasets.ingest(csv_path, DATASET)
    console.print(
        f"[bold]2/5[/] ingested {dataset.ref}: {dataset.rows} rows x {len(dataset.columns)} columns"
    )
    registered = []
    for spec in SPECS:
        job = client.training.train({**spec, "dataset": dataset.ref})
        assert job.run_id is not None
        registered.append(client.models.register(MODEL, job.run_id))
        console.print(f"[bold]3/5[/] trained {spec['name']}: {job.message}")
    best = _champion(registered)
    client.models.set_approval(MODEL, best.version, "Approved")
    client.models.set_alias(MODEL, "champion", best.version)
    table(
        "Registered",
        ["model", "roc_auc", "accuracy", "alias"],
        [
            (
                v.ref,
                v.metrics.get("roc_auc"),
                v.metrics.get("accuracy"),
                "champion" if v is best else "",
            )
            for v in registered
        ],
    )
    try:
        client.endpoints.update(ENDPOINT, f"{MODEL}@champion")
    except NotFound:
        client.endpoints.create(ENDPOINT, f"{MODEL}@champion")
    token = _ensure_caller(client)
    console.print(f"[bold]4/5[/] endpoint {ENDPOINT} → {best.ref} (champion)")

    serving = uvicorn_server(build_serving_app(platform, ENDPOINT), host, port)
    start_in_thread(serving)
    url = f"http://{host}:{bound_port(serving)}"
    request_file = settings.home / "quickstart" / "request.json"
    frame = __import__("pandas").read_csv(csv_path).drop(columns=["diagnosis"]).head(1)
    request_file.write_bytes(
        orjson.dumps({"dataframe_split": frame.to_dict(orient="split", index=False)})
    )
    answer = httpx.post(
        f"{url}/invocations",
        content=request_file.read_bytes(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    console.print(f"[bold]5/5[/] prediction for the first row: {answer.text}")
    admin = issue_admin_key_if_none(platform)  # a fresh home has no key for the control plane
    console.print(f"done in {time.monotonic() - started:.1f} s")
    if not serve:
        serving.should_exit = True
        url = f"http://{host}:{settings.serving_port}"
        console.print(
            f"\nthe endpoint stops now; `shipyard serve {ENDPOINT}` serves it on {url} and "
            f"`shipyard server` runs the control plane (`make demo` keeps both running)"
        )
    api = f"http://{host}:{api_port if serve else settings.port}/api/v1"
    console.print(
        _access_advice(token, request_file, url, api, admin.token if admin else None),
        highlight=False,
        soft_wrap=True,
    )
    if not serve:
        return
    control = uvicorn_server(create_app(platform), host, api_port)
    console.print(
        f"serving {url}/invocations  (also /v2/models/{MODEL}/infer, /ping, /metrics)\n"
        f"control plane {api}  (Ctrl+C stops both)"
    )
    console.print(
        _console_advice(api.removesuffix("/api/v1") + "/", client, admin.token if admin else None),
        highlight=False,
        soft_wrap=True,
    )
    try:
        run_servers([control])
    finally:
        serving.should_exit = True


def _console_advice(url: str, client: Client, fresh_admin_key: str | None) -> str:
    """Where the web console is and a key to log in with: the admin key this run issued, or
    a new key of the admin principal (an existing home's first key was shown only once)."""
    from shipyard.security import ADMIN

    key = fresh_admin_key
    if key is None:
        key = client.iam.create_api_key(ADMIN).token
    return (
        f"web console {url} : log in with a key of principal {ADMIN} (full access; "
        f"shown once, `shipyard keys revoke` ends it):\n{key}"
    )


def _access_advice(caller: str, request_file: Path, url: str, api: str, admin: str | None) -> str:
    """How to call the endpoint and the control plane, each with a key that may use it."""
    invoke = (
        f"curl -s -H 'Authorization: Bearer {caller}' -H 'Content-Type: application/json' "
        f"--data @{request_file} {url}/invocations"
    )
    if admin is None:
        key = "$SHIPYARD_API_KEY"
        whose = (
            "an admin key: the one `shipyard init` printed, or a new one from "
            "`shipyard keys create admin`, in SHIPYARD_API_KEY"
        )
    else:
        key, whose = admin, "the admin key (shown once, store it now)"
    return (
        f"\ninvoke the endpoint with its caller key ({CALLER} may only invoke {ENDPOINT}):\n"
        f"  {invoke}\n"
        f"use the control plane at {api} with {whose}:\n"
        f'  curl -s -H "Authorization: Bearer {key}" {api}/models\n'
        f"  shipyard --url {api.removesuffix('/api/v1')} --api-key {key} models list"
    )
