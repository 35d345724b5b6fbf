"""Text transfer bench: examples/s of training (frozen, finetune) and of serving text
predictions through a real endpoint, each against sentence-transformers' raw ``encode()``.

    python bench/text.py                 # 400 tickets, 3 rounds, requests of 64 texts
    python bench/text.py --quick         # 1 round
    python bench/text.py --rows 800 --runs 5 --batch 128

The reference is the limit for both: training has to run the encoder over every example
at least once, and a prediction is one encoder pass plus a linear head, so neither can
beat ``SentenceTransformer.encode`` of the same texts (loaded offline from the same
package, same ``max_seq_length``, same torch threads, in the bench process).

- training: ``text.SentenceClassifier.fit`` in the bench process (encoder load from the
  package, tokenizing, the forward passes, the head, for finetune the last two layers for
  one epoch) on ``--rows`` tickets, examples/s; the reference encodes the same tickets.
- serving: ``shipyard serve`` of the fine-tuned version (registered from a training job)
  on 127.0.0.1, one POST of ``--batch`` texts at a time (``dataframe_split``), examples/s
  per request, 5 requests a round after one warm-up; the reference encodes the same
  ``--batch`` texts in one call.

Sides alternate round by round (who goes first), so drifting machine load hits both;
the table shows medians, the median ratio and its range over rounds (never the best).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
os.environ["HF_HUB_OFFLINE"] = "1"  # the reference loads from the package, never a hub

import httpx
import numpy as np
import pandas as pd

from _servers import free_port, launch
from shipyard.cli._tickets import support_tickets, write_support_tickets_csv
from shipyard.client import Client
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import (
    attach_policy,
    bootstrap,
    context_for,
    create_api_key,
    create_principal,
    put_policy,
)

MAX_SEQ_LENGTH = 64
REQUESTS = 5


def _rate(examples: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return examples / (time.perf_counter() - started)


def _paired(
    run: int, examples: int, ours: Callable[[], object], limit: Callable[[], object]
) -> tuple[float, float]:
    """(ours, limit) examples/s; even rounds run ours first, odd rounds the limit first."""
    if run % 2 == 0:
        first = _rate(examples, ours)
        return first, _rate(examples, limit)
    second = _rate(examples, limit)
    return _rate(examples, ours), second


def _training_rounds(rows: int, runs: int, reference: Any) -> dict[str, list[tuple[float, float]]]:
    from shipyard.training._text_estimator import SentenceClassifier

    tickets = support_tickets(rows, seed=7)
    texts = [text for text, _ in tickets]
    frame = pd.DataFrame({"text": texts})
    labels = np.array([label for _, label in tickets])
    found: dict[str, list[tuple[float, float]]] = {"frozen": [], "finetune": []}
    for run in range(runs):
        for mode in ("frozen", "finetune"):
            estimator = SentenceClassifier(
                mode=mode, max_seq_length=MAX_SEQ_LENGTH, epochs=1, random_state=run
            )
            pair = _paired(
                run,
                rows,
                functools.partial(estimator.fit, frame, labels),
                functools.partial(reference.encode, texts, batch_size=16),
            )
            found[mode].append(pair)
            print(f"  round {run + 1} {mode}: {pair[0]:.1f} vs {pair[1]:.1f}", flush=True)
    return found


def _serving_rounds(home: Path, batch: int, runs: int, reference: Any) -> list[tuple[float, float]]:
    settings = Settings(home=home)
    platform = Platform.open(settings)
    bootstrap(platform)
    client = Client(settings=settings)
    csv = write_support_tickets_csv(home.parent / "tickets.csv", rows=200, seed=3)
    dataset = client.datasets.ingest(csv, "tickets").ref
    spec = {
        "dataset": dataset,
        "target": "label",
        "task": "classification",
        "estimator": "text.SentenceClassifier",
        "params": {"mode": "finetune", "max_seq_length": MAX_SEQ_LENGTH},
        "experiment": "bench",
    }
    job = client.training.train(spec, timeout=1800)
    assert job.status == "succeeded" and job.run_id, job
    client.models.register("tickets", job.run_id)
    client.endpoints.create("tickets", "tickets@1")
    admin = context_for(platform, "admin")
    create_principal(admin, "bench")
    statement = {"Effect": "Allow", "Action": "endpoints:Invoke", "Resource": "sy:endpoint/tickets"}
    put_policy(admin, "bench", {"Statement": [statement]})
    attach_policy(admin, "bench", "bench")
    key = create_api_key(admin, "bench").token
    assert key
    client.close()
    platform.close()

    port = free_port()
    env = {**os.environ, "SHIPYARD_HOME": str(home)}
    command = [sys.executable, "-m", "shipyard", "serve", "tickets", "--port", str(port)]
    server = launch("shipyard", command, port, key, home.parent / "serve.log", env=env)
    texts = [text for text, _ in support_tickets(batch, seed=11)]
    body = {"dataframe_split": {"columns": ["text"], "data": [[t] for t in texts]}}
    headers = {"Authorization": f"Bearer {key}"}
    found = []
    try:
        with httpx.Client(timeout=300) as http:

            def post() -> None:
                answer = http.post(f"{server.url}/invocations", json=body, headers=headers)
                answer.raise_for_status()
                assert len(answer.json()["predictions"]) == batch

            post()  # warm-up: the first request after start

            def ours() -> None:
                for _ in range(REQUESTS):
                    post()

            def limit() -> None:
                for _ in range(REQUESTS):
                    reference.encode(texts, batch_size=batch)

            for run in range(runs):
                pair = _paired(run, batch * REQUESTS, ours, limit)
                found.append(pair)
                print(f"  round {run + 1} serving: {pair[0]:.1f} vs {pair[1]:.1f}", flush=True)
    finally:
        server.stop()
    return found


def _row(name: str, pairs: list[tuple[float, float]]) -> str:
    ours = statistics.median(p[0] for p in pairs)
    limit = statistics.median(p[1] for p in pairs)
    ratios = [p[0] / p[1] for p in pairs]
    return (
        f"| {name} | {ours:,.1f} | {limit:,.1f} | {statistics.median(ratios):.0%} "
        f"| {min(ratios):.0%} to {max(ratios):.0%} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400, help="training tickets")
    parser.add_argument("--batch", type=int, default=64, help="texts per serving request")
    parser.add_argument("--runs", type=int, default=3, help="rounds (median)")
    parser.add_argument("--quick", action="store_true", help="one round")
    args = parser.parse_args()
    runs = 1 if args.quick else max(1, args.runs)

    import torch
    from sentence_transformers import SentenceTransformer

    from shipyard.flavors._text_encoder import base_encoder

    reference = SentenceTransformer(str(base_encoder().path), device="cpu", local_files_only=True)
    reference.max_seq_length = MAX_SEQ_LENGTH
    print(
        f"\nText transfer on {os.cpu_count()} cores, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads, max_seq_length {MAX_SEQ_LENGTH}, {runs} round(s)\n",
        flush=True,
    )
    training = _training_rounds(args.rows, runs, reference)
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-text-") as tmp:
        serving = _serving_rounds(Path(tmp) / "home", args.batch, runs, reference)
    print(
        "\n| examples/s | Shipyard | sentence-transformers encode() | Shipyard / encode "
        "| range over rounds |"
    )
    print("|---|---:|---:|---:|---|")
    print(_row(f"training, frozen + head ({args.rows} tickets)", training["frozen"]))
    print(_row(f"training, finetune 2 layers, 1 epoch ({args.rows})", training["finetune"]))
    print(_row(f"serving, {args.batch} texts per POST to shipyard serve", serving))


if __name__ == "__main__":
    main()
