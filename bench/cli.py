"""CLI start-up bench: ``shipyard`` against ``mlflow``, each command a fresh process.

    python bench/cli.py              # 15 timed runs per command and side
    python bench/cli.py --runs 5

One Shipyard server (``shipyard server`` on a free 127.0.0.1 port, its own home) holds a
dataset and a few experiments; both CLIs list over HTTP from it, MLflow's through
Shipyard's MLflow-compatible REST routes (``MLFLOW_TRACKING_URI`` and
``MLFLOW_TRACKING_TOKEN``, as tests/api/test_mlflow_client.py sets them), Shipyard's with
``SHIPYARD_URL`` and ``SHIPYARD_API_KEY`` (or ``--url`` given on the command line). Pairs:

- ``shipyard --help`` / ``mlflow --help``
- ``shipyard datasets list`` / ``mlflow experiments search``
- ``shipyard experiments list`` / ``mlflow experiments search``
- ``shipyard --url URL models list`` / ``mlflow experiments search``

The MLflow CLI is the official client's (mlflow-skinny) from the venv the MLflow client
test uses (``<venv>/mlflow-client``, made by tests/fixtures/mlflow_client_env.py), or
``--mlflow PATH``. After one warm-up run of every command, the sides alternate run by run
(Shipyard first on even runs, MLflow first on odd). Printed per command: wall seconds and
the CPU seconds the process used (median and range; CPU time says more than wall time on a
busy machine), and the MLflow/Shipyard ratio of the medians, with the load average before
and after.

Both sides run from compiled bytecode, as installed packages do: MLflow's venv has it, and
Shipyard's processes write theirs on the warm-up run into a cache of this run's own
(``PYTHONPYCACHEPREFIX``), also when the environment says ``PYTHONDONTWRITEBYTECODE``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from _servers import RunningServer, free_port  # noqa: E402
from shipyard.client import Client  # noqa: E402

URL = "{url}"
"""Stands for the server's URL in a command line."""

PAIRS = [
    ("--help", ["--help"], ["--help"]),
    ("list (datasets)", ["datasets", "list"], ["experiments", "search"]),
    ("list (experiments)", ["experiments", "list"], ["experiments", "search"]),
    ("--url URL models list", ["--url", URL, "models", "list"], ["experiments", "search"]),
]


def _mlflow_cli(given: str | None) -> Path:
    """The ``mlflow`` command: given, or the MLflow client test's venv (made if missing)."""
    if given:
        return Path(given)
    for venv in (Path(sys.prefix) / "mlflow-client", ROOT / ".venv" / "mlflow-client"):
        if (venv / "bin" / "mlflow").exists():
            return venv / "bin" / "mlflow"
    from tests.fixtures.mlflow_client_env import ensure_mlflow_client

    return ensure_mlflow_client().with_name("mlflow")


def _shipyard_cli() -> list[str]:
    """The ``shipyard`` console script next to this python, else ``python -m shipyard``."""
    script = Path(sys.executable).with_name("shipyard")
    return [str(script)] if script.exists() else [sys.executable, "-m", "shipyard"]


def _start_server(home: Path, env: dict[str, str]) -> RunningServer:
    """``shipyard init`` (for the admin key), then ``shipyard server`` until /healthz answers."""
    import httpx

    init = subprocess.run(
        [*_shipyard_cli(), "init"], capture_output=True, text=True, env=env, check=True
    )
    key = init.stdout.strip().splitlines()[-1]
    port = free_port()
    log = home / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*_shipyard_cli(), "server", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    server = RunningServer("shipyard", f"http://127.0.0.1:{port}", key, process, log)
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"the server did not start; see {log}")
        time.sleep(0.2)


def _seed(server: RunningServer, home: Path) -> None:
    data = home / "iris-sample.csv"
    data.write_text("sepal_length,species\n5.1,setosa\n7.0,versicolor\n6.3,virginica\n")
    with Client(server.url, api_key=server.api_key) as sdk:
        sdk.datasets.ingest(data, "iris-sample")
        for name in ("churn", "fraud", "pricing"):
            sdk.tracking.create_experiment(name)


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of one run, and the CPU seconds (user + system) the process used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def _load(averages: tuple[float, float, float]) -> str:
    return " ".join(f"{a:.2f}" for a in averages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command and side")
    parser.add_argument("--mlflow", help="the mlflow command (default: the client test's venv)")
    args = parser.parse_args()
    mlflow = _mlflow_cli(args.mlflow)
    home = Path(tempfile.mkdtemp(prefix="shipyard-bench-cli-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SHIPYARD_", "MLFLOW_"))}
    load_before = os.getloadavg()
    server_env = base | {"SHIPYARD_HOME": str(home / "server-home")}
    server = _start_server(home, server_env)
    try:
        _seed(server, home)
        ours = {k: v for k, v in base.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
            "PYTHONPYCACHEPREFIX": str(home / "bytecode"),
            "SHIPYARD_HOME": str(home / "client-home"),
            "SHIPYARD_URL": server.url,
            "SHIPYARD_API_KEY": server.api_key,
        }
        theirs = {k: v for k, v in base.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))} | {
            "MLFLOW_TRACKING_URI": server.url,
            "MLFLOW_TRACKING_TOKEN": server.api_key,
        }
        sides = {
            "shipyard": (_shipyard_cli(), ours),
            "mlflow": ([str(mlflow)], theirs),
        }
        times: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        for label, shipyard_args, mlflow_args in PAIRS:
            argv = {
                "shipyard": [a.format(url=server.url) for a in shipyard_args],
                "mlflow": mlflow_args,
            }
            for side, (command, env) in sides.items():  # warm-up: bytecode, disk cache
                _timed([*command, *argv[side]], env)
            for run in range(args.runs):
                order = ["shipyard", "mlflow"] if run % 2 == 0 else ["mlflow", "shipyard"]
                for side in order:
                    command, env = sides[side]
                    elapsed, used = _timed([*command, *argv[side]], env)
                    times.setdefault((label, side), []).append(elapsed)
                    cpu.setdefault((label, side), []).append(used)
    finally:
        server.stop()
    version = subprocess.run(
        [str(mlflow), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    load_after = os.getloadavg()
    print(f"\nCLI start-up per command ({args.runs} runs each, alternating): median (range)")
    print(f"shipyard: {' '.join(_shipyard_cli())}; mlflow: {mlflow} ({version})")
    print(f"load average (1, 5, 15 min): before {_load(load_before)}, after {_load(load_after)}\n")
    for title, table in (("wall seconds", times), ("CPU seconds (user + system)", cpu)):
        print(f"{title:<28} {'shipyard':>22} {'mlflow':>22} {'mlflow/shipyard':>16}")
        for label, _, _ in PAIRS:
            ours_t, theirs_t = table[(label, "shipyard")], table[(label, "mlflow")]
            ratio = statistics.median(theirs_t) / statistics.median(ours_t)
            print(f"{label:<28} {_spread(ours_t):>22} {_spread(theirs_t):>22} {ratio:>15.2f}x")
        print()
    print("shipyard " + " | ".join(" ".join(a).format(url="URL") for _, a, _ in PAIRS))
    print("mlflow   " + " | ".join(" ".join(a) for _, _, a in PAIRS))


if __name__ == "__main__":
    main()
