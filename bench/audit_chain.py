"""Audit chain bench: does sealing move a hot mutating call's latency, and how fast is a
verify?

    python bench/audit_chain.py                    # 5 rounds of 400 calls per side
    python bench/audit_chain.py --rounds 7 --calls 1000 --verify-events 100000

The hot call is ``tracking:LogBatch`` (one metric flushed per call, as ``run.log_metric``
then ``flush`` does), over HTTP with a bearer key against the REST app on 127.0.0.1, on a
fresh SQLite home. Each call writes one audit event. Three sides, each in its own process:

- ``main``: the code without the chain (``--main``, default /work/main), the peer;
- ``unsealed``: this code, no sealer running (events are written with empty seal columns);
- ``sealing``: this code with the server's sealer every 0.2 s (25 times the default rate),
  so sealing and checkpoints run all through the timed calls.

Sides alternate in a rotated order each round, so load drifts hit all alike. The tables give
each side's median per-call wall latency, and the process's CPU time per call (client,
server and sealer threads; steadier than wall time on a shared machine), as the median over
rounds with its range, and the median ratio to ``main`` with its range. Then it times
sealing and verifying ``--verify-events`` events written in bulk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def child(side: str, calls: int) -> None:
    from bench._live_api import LiveServer

    from shipyard.client import Client
    from shipyard.config import Settings
    from shipyard.platform import Platform
    from shipyard.security import bootstrap, issue_admin_key_if_none

    with tempfile.TemporaryDirectory() as home:
        platform = Platform.open(Settings(home=Path(home)))
        bootstrap(platform)
        key = issue_admin_key_if_none(platform)
        assert key is not None and key.token is not None
        server = LiveServer(platform)
        sealer = None
        if side == "sealing":
            from shipyard.security import AuditSealer

            sealer = AuditSealer(platform, 0.2).start()
        client = Client(server.url, api_key=key.token)
        run = client.tracking.start_run("bench")
        times = []
        for i in range(calls + 50):
            if i == 50:
                cpu = time.process_time()
            run.log_metric("loss", 1.0 / (i + 1), step=i)
            start = time.perf_counter()
            run.flush()
            if i >= 50:
                times.append(time.perf_counter() - start)
        cpu = (time.process_time() - cpu) / calls
        if sealer is not None:
            sealer.stop()
        client.close()
        server.close()
        platform.close()
    print(json.dumps({"median_ms": statistics.median(times) * 1000, "cpu_ms": cpu * 1000}))


def verify_child(events: int) -> None:
    from shipyard.config import Settings
    from shipyard.platform import Platform
    from shipyard.security import (
        ADMIN,
        bootstrap,
        check_audit_log,
        context_for,
        record_events,
        seal_audit_log,
        verify_audit_log,
    )

    with tempfile.TemporaryDirectory() as home:
        platform = Platform.open(Settings(home=Path(home)))
        bootstrap(platform)
        batch = [
            {
                "principal": "bench",
                "action": "tracking:LogBatch",
                "resource": f"sy:run/{i % 97}",
                "outcome": "succeeded",
                "request_id": f"r{i}",
                "detail": {"uses": ["tracking:GetRun sy:run/x"]},
            }
            for i in range(events)
        ]
        record_events(platform.db, batch)
        start = time.perf_counter()
        seal_audit_log(platform)
        sealed = time.perf_counter() - start
        start = time.perf_counter()
        verdict = check_audit_log(platform)
        checked = time.perf_counter() - start
        assert verdict.ok and verdict.events == events
        assert verify_audit_log(context_for(platform, ADMIN)).ok
        platform.close()
    print(json.dumps({"seal_s": sealed, "verify_s": checked}))


def _run(side: str, calls: int, main: Path) -> tuple[float, float]:
    root = main if side == "main" else HERE
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")} | {
        "PYTHONPATH": f"{root / 'src'}:{root}"
    }
    done = subprocess.run(
        [sys.executable, __file__, "--child", side, "--calls", str(calls)],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout.splitlines()[-1])
    return float(found["median_ms"]), float(found["cpu_ms"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--main", type=Path, default=Path("/work/main"))
    parser.add_argument("--verify-events", type=int, default=50_000)
    parser.add_argument("--child")
    parser.add_argument("--verify-child", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.calls)
        return
    if args.verify_child:
        verify_child(args.verify_child)
        return
    sides = ["main", "unsealed", "sealing"]
    found: dict[str, list[tuple[float, float]]] = {s: [] for s in sides}
    for number in range(args.rounds):
        order = sides[number % 3 :] + sides[: number % 3]
        for side in order:
            found[side].append(_run(side, args.calls, args.main))
        print(
            f"round {number + 1}: "
            + ", ".join(f"{s} {found[s][-1][0]:.2f} ms ({found[s][-1][1]:.2f} CPU)" for s in sides)
        )
    for index, what in ((0, "median wall latency"), (1, "CPU of the server process")):
        print(f"\nLogBatch over HTTP, {what} per call ({args.calls} calls x {args.rounds})")
        print(f"{'side':<10} {'median ms':>10} {'range':>16} {'ratio to main':>14} {'range':>14}")
        for side in sides:
            values = [v[index] for v in found[side]]
            ratios = [v / m[index] for v, m in zip(values, found["main"], strict=True)]
            print(
                f"{side:<10} {statistics.median(values):>10.2f} "
                f"{min(values):>7.2f}..{max(values):<7.2f} {statistics.median(ratios):>14.3f} "
                f"{min(ratios):>6.3f}..{max(ratios):<6.3f}"
            )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["PYTHONPATH"] = f"{HERE / 'src'}:{HERE}"
    done = subprocess.run(
        [sys.executable, __file__, "--verify-child", str(args.verify_events)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    timing = json.loads(done.stdout.splitlines()[-1])
    rate = args.verify_events / timing["verify_s"]
    print(
        f"\n{args.verify_events} events: sealed in {timing['seal_s']:.2f} s, "
        f"verified in {timing['verify_s']:.2f} s ({rate:,.0f} events/s)"
    )


if __name__ == "__main__":
    main()
