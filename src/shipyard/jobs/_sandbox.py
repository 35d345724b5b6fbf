"""Own code with ``network: none``: staged in, run in the sandbox, its results staged out.

The trusted job worker writes the attempt's inputs (each dataset version as an Arrow IPC
file; the code files are there already) next to an empty scratch directory, and starts
``shipyard.sandbox._child`` with a clean environment (no ``SHIPYARD_*`` settings, no
database URL, no keys) and a plan on stdin. The child enters namespaces with no network
but its own loopback, a mount view hiding the Shipyard home, the database file, the blob
directory and every path in the settings, and runs as an unprivileged uid (see
``shipyard.sandbox``). What it reports on the channel is recorded by ``Recorder``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

import shipyard
from shipyard.config import Settings
from shipyard.datasets import find_version, load_version_table
from shipyard.errors import JobFailed
from shipyard.jobs._attempt import JobAttempt
from shipyard.jobs._log_model import StoredArtifacts
from shipyard.jobs._sandbox_record import Recorder
from shipyard.names import parse_reference
from shipyard.sandbox._context import OUTBOX
from shipyard.sandbox._namespaces import NOBODY, ROOT, Layout

CHANNEL_LINE_BYTES = 1 << 20
SOCKET_DIRECTORIES = ("/run", "/var/run", "/var/tmp")  # noqa: S108 - hidden, not used
"""Hidden as well: where services keep their Unix sockets (PostgreSQL, Docker, MySQL...),
which no network namespace covers (``/tmp`` and ``/dev/shm`` are the sandbox's own)."""
_PASSED_ENV = ("LANG", "LC_ALL", "TZ", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class SandboxFailed(JobFailed):
    """The sandbox could not be set up (namespaces refused, a path it needs is hidden)."""


class CodeFailed(JobFailed):
    """The sandboxed code raised (the message is its exception's) or its process died."""


@dataclass(frozen=True)
class Outcome:
    """What an isolated attempt produced: run artifacts and the model's files, by path."""

    artifacts: StoredArtifacts
    models: StoredArtifacts


def hidden_paths(settings: Settings) -> list[str]:
    """Every local path the settings name (home, database file, blobs, token files), and
    the usual directories of services' Unix sockets."""
    found = [settings.home, *map(Path, SOCKET_DIRECTORIES)]
    found += [v for v in vars(settings).values() if isinstance(v, Path)]
    url = settings.metadata_url
    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        found += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    blobs = settings.blobs_url
    if "://" not in blobs or blobs.startswith("file://"):
        found.append(Path(blobs.removeprefix("file://")))
    if os.environ.get("SHIPYARD_CONFIG"):
        found.append(Path(os.environ["SHIPYARD_CONFIG"]))
    return sorted({str(p.resolve()) for p in found if p.exists()})


def _python_paths() -> list[Path]:
    """The interpreter, its standard library, site-packages and the shipyard package."""
    package = Path(shipyard.__file__).resolve().parent.parent
    found = {Path(sys.prefix), Path(sys.base_prefix), package}
    found |= {Path(p) for p in sys.path if p and os.path.isabs(p) and os.path.isdir(p)}
    return sorted({p.resolve() for p in found})


def layout_for(directory: Path, hide: list[str], as_root: bool) -> Layout:
    """Hide ``hide``; show the Python installation (an unprivileged uid cannot enter
    ``/root``, say: an empty tmpfs goes over it with the installation bound back)."""
    needed = [p for p in _python_paths() if not p.is_relative_to(ROOT)]
    for path in needed:
        for hidden in hide:
            if path.is_relative_to(hidden):
                raise SandboxFailed(f"the sandbox hides {hidden}, where Python reads {path}")
    cover, reveal = set(), set()
    for path in needed if as_root else []:
        for ancestor in reversed(path.parents[:-1]):
            if not ancestor.stat().st_mode & 0o001:
                cover.add(str(ancestor))
                reveal.add(str(path))
                break
    return Layout(
        code=str(directory / "code"),
        inputs=str(directory / "inputs"),
        scratch=str(directory / "scratch"),
        hide=tuple(hide),
        cover=tuple(sorted(cover)),
        reveal=tuple(sorted(reveal)),
    )


def stage_inputs(job: JobAttempt, directory: Path, datasets: dict[str, str]) -> None:
    """Each dataset version as ``inputs/<name>.arrow``; everything readable, scratch empty."""
    inputs, scratch = directory / "inputs", directory / "scratch"
    inputs.mkdir(parents=True)
    scratch.mkdir()
    for name, text in datasets.items():
        ref = parse_reference(text, field="dataset")
        with job.platform.db.session() as session:
            version = find_version(session, ref.name, ref.version)
        table = load_version_table(job.platform, version)
        staged = str(inputs / f"{name}.arrow")
        with pa.OSFile(staged, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        job.log(f"staged {name}: {table.num_rows} rows x {table.num_columns} columns")
    for path in [directory, *directory.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    if os.geteuid() == 0:
        os.chown(scratch, NOBODY, NOBODY)


def _environment() -> dict[str, str]:
    package = Path(shipyard.__file__).resolve().parent.parent
    found = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
    return found | {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(ROOT / "work"),
        "TMPDIR": str(ROOT),
        "PYTHONPATH": str(package),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def start_child(plan: dict[str, Any]) -> tuple[subprocess.Popen[bytes], int]:
    """The sandbox's process, its plan sent; and the channel's read end."""
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-s", "-m", "shipyard.sandbox._child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
            env=_environment(),
            cwd="/",
        )
    finally:
        os.close(write_end)
    assert process.stdin is not None
    process.stdin.write(json.dumps(plan | {"channel": write_end}).encode())
    process.stdin.close()
    return process, read_end


def run_isolated(
    job: JobAttempt, run_id: str, spec: dict[str, Any], directory: Path, entry: tuple[str, str]
) -> Outcome:
    """Run ``entry`` (file, function) of the staged code in the sandbox; what it logged."""
    datasets = {str(k): str(v) for k, v in dict(spec["datasets"]).items()}
    stage_inputs(job, directory, datasets)
    hide = hidden_paths(job.platform.settings)
    layout = layout_for(directory, hide, os.geteuid() == 0)
    job.log(f"sandbox: network none, {len(hide)} path(s) hidden, uid {NOBODY}")
    plan = {
        "layout": vars(layout),
        "uid": NOBODY,
        "job_id": job.id,
        "run_id": run_id,
        "params": dict(spec.get("params", {})),
        "datasets": datasets,
        "entry_file": entry[0],
        "function": entry[1],
    }
    outbox = directory / "scratch" / OUTBOX
    recorder = Recorder(job, run_id, outbox, job.platform.settings.max_upload_bytes)
    process, read_end = start_child(plan)
    output = threading.Thread(target=_forward, args=(job, process), daemon=True)
    output.start()
    try:
        with os.fdopen(read_end, "rb") as channel:
            while line := channel.readline(CHANNEL_LINE_BYTES):
                if not line.endswith(b"\n") and len(line) >= CHANNEL_LINE_BYTES:
                    raise CodeFailed("the code sent a message over 1 MiB")
                recorder.take(line)
    finally:
        if process.poll() is None and recorder.outcome is None:
            process.kill()
        code = process.wait()
        output.join()
    if recorder.outcome == "sandbox":
        raise SandboxFailed(f"the sandbox could not be set up: {recorder.error}")
    if recorder.outcome == "error":
        raise CodeFailed(recorder.error)
    if recorder.outcome != "done" or code != 0:
        raise CodeFailed(f"the code's process ended with exit code {code} before it finished")
    artifacts, models = recorder.collect()
    return Outcome(artifacts, models)


def _forward(job: JobAttempt, process: subprocess.Popen[bytes]) -> None:
    """The code's stdout and stderr, line by line, to the job's log."""
    assert process.stdout is not None
    for raw in iter(lambda: process.stdout.readline(8192), b""):  # type: ignore[union-attr]
        job.log("(code) " + raw.decode("utf-8", "replace").rstrip())


def sandbox_unavailable(scratch: Path) -> str | None:
    """Why the sandbox cannot be entered on this machine (None: it can), by entering it."""
    if sys.platform != "linux":
        return f"the sandbox needs Linux namespaces (this is {sys.platform})"
    directory = scratch / "sandbox-probe"
    for name in ("code", "inputs", "scratch"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(directory / "scratch", NOBODY, NOBODY)
    try:
        layout = layout_for(directory, [], os.geteuid() == 0)
    except SandboxFailed as error:
        return str(error)
    process, read_end = start_child({"layout": vars(layout), "uid": NOBODY, "probe": True})
    with os.fdopen(read_end, "rb") as channel:
        said = channel.read(CHANNEL_LINE_BYTES).decode("utf-8", "replace")
    assert process.stdout is not None
    output = process.stdout.read().decode("utf-8", "replace")
    process.wait()
    if process.returncode == 0 and '"done"' in said:
        return None
    return f"the sandbox cannot be entered here: {said.strip() or output.strip()[-500:]}"
