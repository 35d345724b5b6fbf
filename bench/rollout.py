"""Rollout bench: guarded deployments against a live data plane under steady traffic.

    python bench/rollout.py            # 5 s bakes, 8 client threads
    python bench/rollout.py --quick    # 1.5 s bakes, 4 client threads

Serves an endpoint with ``build_serving_app`` under uvicorn on 127.0.0.1 while
client threads send single-row requests without pause, then runs three rollouts
through the SDK: a canary that succeeds (v1 -> v2), a canary whose alarm trips
and rolls back (v2 -> v3 with ``p50_latency > 0.0001ms``), and a canary stopped
by a manual rollback in the middle of its bake. Prints the request and failure
counts per phase and the rollout timeline as markdown tables. No peer tool has
guarded rollouts on one machine (MLflow and BentoML have none), so there is no
side-by-side column; the figure that matters is failed requests: 0.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import lightgbm as lgb
import orjson
import uvicorn
from sklearn.datasets import load_breast_cancer

from shipyard.client import Client, LocalTransport
from shipyard.config import Settings
from shipyard.deploy import DeploymentEvent
from shipyard.endpoints import build_serving_app
from shipyard.flavors import ColumnSpec, ModelSignature, save_model
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META, register_model
from shipyard.security import bootstrap, context_for, issue_admin_key_if_none
from shipyard.serving import ServingSettings
from shipyard.tracking import start_run, store_artifact

MODEL = "bc-model"


def _register(platform: Platform, trees: int) -> None:
    data = load_breast_cancer(as_frame=True)
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "num_leaves": 7}
    booster = lgb.train(params, lgb.Dataset(data.data.to_numpy(), data.target), trees)
    flavor, blob = save_model(booster)
    signature = ModelSignature(
        inputs=[ColumnSpec(name=c, type="float") for c in data.data.columns],
        task="classification",
        target="diagnosis",
        classes=[0, 1],
    )
    with platform.db.session() as session:
        run = start_run(session, experiment="bench", principal="admin")
        artifact = store_artifact(platform, session, run.id, MODEL_ARTIFACT, blob)
        meta = {"flavor": flavor, "digest": artifact.digest, "signature": signature.model_dump()}
        store_artifact(platform, session, run.id, MODEL_META, orjson.dumps(meta))
        run.status = "finished"
        run_id = run.id
    register_model(context_for(platform, "admin"), MODEL, run_id)


class Traffic:
    """Client threads sending single rows without pause; counts answers and failures."""

    def __init__(self, url: str, token: str, threads: int) -> None:
        self.ok = 0
        self.failed: list[str] = []
        self.by_variant: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        row = load_breast_cancer().data[0].tolist()
        self._workers = [
            threading.Thread(target=self._drive, args=(url, token, row), daemon=True)
            for _ in range(threads)
        ]
        for worker in self._workers:
            worker.start()

    def _drive(self, url: str, token: str, row: list[float]) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            while not self._stop.is_set():
                try:
                    response = http.post("/invocations", json={"instances": [row]})
                except httpx.HTTPError as error:
                    with self._lock:
                        self.failed.append(repr(error))
                    continue
                with self._lock:
                    if response.status_code == 200:
                        self.ok += 1
                        self.by_variant[response.headers["x-shipyard-variant"]] += 1
                    else:
                        self.failed.append(str(response.status_code))

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self.ok, len(self.failed)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)


def _wait(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the rollout")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short bakes, fewer clients")
    args = parser.parse_args()
    bake, threads = (1.5, 4) if args.quick else (5.0, 8)
    home = Path(tempfile.mkdtemp(prefix="shipyard-rollout-"))
    platform = Platform.open(Settings(home=home, key_cache_seconds=0.2))
    bootstrap(platform)
    token = issue_admin_key_if_none(platform)
    assert token is not None
    for trees in (50, 20, 50):
        _register(platform, trees)
    sdk = Client(transport=LocalTransport(platform, context_for(platform, "admin")))
    sdk.endpoints.create("bc", f"{MODEL}@1")
    app = build_serving_app(platform, "bc", settings=ServingSettings())
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait(lambda: server.started)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    traffic = Traffic(url, token.token, threads)
    _wait(lambda: traffic.counts()[0] > 50)

    started = time.monotonic()
    timeline: list[tuple[float, str, DeploymentEvent]] = []
    phases: list[tuple[str, str, float, int, int]] = []

    def phase(name: str, run: Callable[[], str]) -> None:
        begin, (ok0, failed0) = time.monotonic(), traffic.counts()
        status = run()
        ok, failed = traffic.counts()
        phases.append((name, status, time.monotonic() - begin, ok - ok0, failed - failed0))

    def record(label: str) -> Callable[[DeploymentEvent], None]:
        return lambda e: timeline.append((time.monotonic() - started, label, e))

    phase(
        "canary v1 -> v2",
        lambda: (
            sdk.deployments.deploy(
                "bc",
                f"{MODEL}@2",
                canary_percent=20,
                bake=bake,
                rollback_on="error_rate>1%",
                on_event=record("v2"),
            ).status
        ),
    )
    phase(
        "canary v2 -> v3, alarm trips",
        lambda: (
            sdk.deployments.deploy(
                "bc",
                f"{MODEL}@3",
                canary_percent=20,
                bake=60,
                rollback_on="p50_latency>0.0001ms",
                on_event=record("v3"),
            ).status
        ),
    )

    def forced() -> str:
        info = sdk.deployments.start("bc", f"{MODEL}@3", variant="v3-again", bake=600)
        for event in info.history:
            record("v3-again")(event)
        while info.progress is None or info.progress.phase != "baking":
            info = sdk.deployments.advance(info.id)
        for event in info.history[1:]:
            record("v3-again")(event)
        time.sleep(bake)
        stopped = sdk.deployments.rollback("bc")
        record("v3-again")(stopped.history[-1])
        generation = sdk.endpoints.get("bc").generation
        _wait(lambda: app.config.generation == generation)
        return stopped.status

    phase("canary v2 -> v3, manual rollback", forced)
    traffic.stop()
    server.should_exit = True
    thread.join(timeout=10)

    print(f"\n## Rollouts under steady load ({threads} client threads, bake {bake:g} s)\n")
    print("| phase | outcome | seconds | requests answered | failed requests |")
    print("|---|---|---:|---:|---:|")
    for name, status, seconds, ok, failed in phases:
        print(f"| {name} | {status} | {seconds:.1f} | {ok} | {failed} |")
    ok, failed = traffic.counts()
    print(f"| **total** | | {time.monotonic() - started:.1f} | {ok} | {failed} |")
    print("\nAnswers by variant: " + ", ".join(f"{k} {v}" for k, v in traffic.by_variant.items()))
    print("\n## Timeline\n")
    print("| t (s) | rollout | event | note |")
    print("|---:|---|---|---|")
    for at, label, event in timeline:
        print(f"| {at:.2f} | {label} | {event.event} | {event.note} |")
    platform.close()


if __name__ == "__main__":
    main()
