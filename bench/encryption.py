"""Encryption-at-rest bench: the same work in two homes, encryption on and off, alternating.

    python bench/encryption.py            # 5 rounds: serving 8 s, batch 500k rows, read 2M rows
    python bench/encryption.py --quick    # 3 rounds, smaller

Each round runs every measure once per home, in alternating order (on first in odd rounds),
so drifting machine load hits both alike. Reported: the median of on / off over the rounds,
with its range.

- serving: ``shipyard serve`` (1 worker) of a LightGBM endpoint with capture at 100%
  (captured requests are stored as sealed blobs), driven by wrk at 8 connections, 1 row
  per request; requests/s.
- batch transform: a job over a numeric dataset (id + 10 floats), submit to registered
  output (decrypting the input to a private scratch copy, sealing the output); rows/s.
- dataset read: ``client.datasets.read`` of a numeric dataset into Arrow; rows/s (the
  encrypted side decrypts each file to scratch first; the plaintext side reads in place).
- raw: AES-256-GCM seal and open of 64 MiB at the chunk sizes considered; MB/s.
- rotation: ``rotate_kek`` over 2 MiB blobs on a local store and on S3 (moto, 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _load import find_wrk, run_httpx, run_wrk
from _scoring_setup import register, register_dataset, train_lightgbm, write_numeric_dataset
from _servers import free_port, launch
from shipyard.client import Client
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap

SIDES = ("on", "off")


def _home(root: Path, side: str, batch_rows: int, read_rows: int) -> dict[str, Any]:
    settings = Settings(home=root / side, encryption=side)  # type: ignore[arg-type]
    platform = Platform.open(settings)
    bootstrap(platform)
    register(platform, "bench", train_lightgbm(100), None)
    for name, rows in (("batch-in", batch_rows), ("read", read_rows)):
        data = root / f"{name}-{side}.parquet"
        write_numeric_dataset(data, rows)
        register_dataset(platform, name, data)
        data.unlink()
    client = Client(settings=settings)
    client.endpoints.create(
        "bench", "bench@1", capture={"enabled": True, "sampling_percent": 100, "mode": "both"}
    )
    key = client.iam.create_api_key("admin").token
    return {"settings": settings, "platform": platform, "client": client, "key": key, "jobs": 0}


def _serving(home: dict[str, Any], root: Path, seconds: float, wrk: str | None) -> float:
    settings: Settings = home["settings"]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env |= {"SHIPYARD_HOME": str(settings.home), "SHIPYARD_ENCRYPTION": settings.encryption}
    command = [sys.executable, "-m", "shipyard", "serve", "bench", "--port", str(port)]
    command += ["--workers", "1"]
    server = launch("serve", command, port, home["key"], root / "serve.log", env=env)
    try:
        body = root / "body.json"
        row = {f"f{i}": 0.1 * i for i in range(10)}
        body.write_text(json.dumps({"dataframe_records": [row]}))
        url = f"{server.url}/invocations"
        if wrk:
            run_wrk(wrk, url, body, home["key"], 8, 1.0)  # warm up
            return run_wrk(wrk, url, body, home["key"], 8, seconds).requests_per_second
        return run_httpx(url, body, home["key"], 8, seconds).requests_per_second
    finally:
        server.stop()


def _batch(home: dict[str, Any], rows: int) -> float:
    home["jobs"] += 1
    started = time.perf_counter()
    job = home["client"].batch.transform(
        "bench@1", "batch-in@1", f"scored-{home['jobs']}", keep_columns=["id"], timeout=3600
    )
    assert job.status == "succeeded", job.message
    return rows / (time.perf_counter() - started)


def _read(home: dict[str, Any], rows: int, columns: list[str] | None = None) -> float:
    started = time.perf_counter()
    table = home["client"].datasets.read("read@1", columns=columns)
    assert table.num_rows == rows
    return rows / (time.perf_counter() - started)


def _raw(sizes: list[int]) -> list[str]:
    """Seal and open 64 MiB in memory with each chunk size: MB/s."""
    import io

    from shipyard.store.blobs import Envelope, LocalKeyProvider
    from shipyard.store.blobs._crypto import MAGIC, PREFIX_BYTES

    data = os.urandom(64 << 20)
    lines = []
    with tempfile.TemporaryDirectory() as keys:
        for size in sizes:
            envelope = Envelope(LocalKeyProvider(Path(keys)), chunk_bytes=size)
            started = time.perf_counter()
            sealed = b"".join(envelope.seal(io.BytesIO(data), "sha256:" + "0" * 64))
            seal = time.perf_counter() - started
            source = io.BytesIO(sealed)
            first = source.read(PREFIX_BYTES)
            assert first.startswith(MAGIC)
            started = time.perf_counter()
            opened = b"".join(envelope.open(source, first, "sha256:" + "0" * 64))
            unseal = time.perf_counter() - started
            assert opened == data
            mb = len(data) / 1e6
            lines.append(
                f"| {size // 1024} KiB | {mb / seal:,.0f} | {mb / unseal:,.0f} "
                f"| {(len(sealed) - len(data)) / len(data):.4%} |"
            )
    return lines


def _rotation(objects: int, size: int) -> list[str]:
    """Rotate the KEK over ``objects`` blobs of ``size`` bytes, on a local store and on S3
    (moto on 127.0.0.1): seconds, and the same per stored MB."""
    import boto3
    from moto.server import ThreadedMotoServer

    from shipyard.store.blobs import open_blob_store, rotate_kek

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    lines = []
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        credentials = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", **credentials
        ).create_bucket(Bucket="rotation")
        with tempfile.TemporaryDirectory() as tmp:
            options = {
                "key": "bench",
                "secret": "bench",
                "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
            }
            stores = {
                "local": open_blob_store(f"{tmp}/blobs", encryption={"keys": f"{tmp}/k1"}),
                "s3 (moto)": open_blob_store(
                    "s3://rotation/blobs",
                    storage_options=options,
                    encryption={"keys": f"{tmp}/k2"},
                ),
            }
            for name, store in stores.items():
                for _ in range(objects):
                    store.put_bytes(os.urandom(size))
                started = time.perf_counter()
                report = rotate_kek(store, remove_old=True)
                seconds = time.perf_counter() - started
                assert report.rewrapped == objects
                mb = objects * size / 1e6
                lines.append(
                    f"| {name} | {objects} x {size >> 20} MiB | {seconds:.2f} "
                    f"| {mb / seconds:,.0f} |"
                )
    finally:
        server.stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, smaller inputs")
    parser.add_argument("--rounds", type=int, help="rounds (default 5, quick 3)")
    parser.add_argument("--only-raw", action="store_true", help="cipher and rotation only")
    parser.add_argument(
        "--only-read", action="store_true", help="dataset reads only (whole, one column)"
    )
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)
    seconds = 4.0 if args.quick else 8.0
    batch_rows = 200_000 if args.quick else 500_000
    read_rows = 1_000_000 if args.quick else 2_000_000
    wrk = find_wrk()

    if not args.only_read:
        print("\n| chunk | seal MB/s | open MB/s | size overhead |\n|---:|---:|---:|---:|")
        for line in _raw([64 << 10, 256 << 10, 1 << 20]):
            print(line, flush=True)
        print("\n| KEK rotation | blobs | seconds | MB/s rewritten |\n|---|---:|---:|---:|")
        for line in _rotation(16 if args.quick else 32, 2 << 20):
            print(line, flush=True)
    if args.only_raw:
        return

    measures: dict[str, Callable[[dict[str, Any], Path], float]] = {
        "serving req/s (1 row, 8 conns, capture 100%)": lambda h, r: _serving(h, r, seconds, wrk),
        f"batch transform rows/s ({batch_rows:,} rows)": lambda h, r: _batch(h, batch_rows),
        f"dataset read rows/s ({read_rows:,} rows)": lambda h, r: _read(h, read_rows),
        f"dataset read, 1 of 11 columns, rows/s ({read_rows:,} rows)": lambda h, r: _read(
            h, read_rows, ["f0"]
        ),
    }
    if args.only_read:
        measures = {k: v for k, v in measures.items() if k.startswith("dataset read")}
    results: dict[str, dict[str, list[float]]] = {m: {s: [] for s in SIDES} for m in measures}
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-enc-") as tmp:
        root = Path(tmp)
        homes = {side: _home(root, side, batch_rows, read_rows) for side in SIDES}
        for home in homes.values():  # the first job of a process also starts the job host
            if not args.only_read:
                _batch(home, batch_rows)
        for number in range(rounds):
            order = SIDES if number % 2 == 0 else SIDES[::-1]
            for name, measure in measures.items():
                for side in order:
                    value = measure(homes[side], root)
                    results[name][side].append(value)
                    print(f"  round {number + 1} {name} [{side}]: {value:,.0f}", flush=True)
        for home in homes.values():
            home["client"].close()
            home["platform"].close()

    print(f"\nencryption on vs off, {rounds} rounds alternating, {os.cpu_count()} cores shared")
    print("\n| measure | on (median) | off (median) | on / off median | range |")
    print("|---|---:|---:|---:|---|")
    for name, sides in results.items():
        ratios = [on / off for on, off in zip(sides["on"], sides["off"], strict=True)]
        print(
            f"| {name} | {statistics.median(sides['on']):,.0f} "
            f"| {statistics.median(sides['off']):,.0f} | {statistics.median(ratios):.3f} "
            f"| {min(ratios):.3f}-{max(ratios):.3f} |"
        )


if __name__ == "__main__":
    main()
