"""Own code with ``network: none``: staged in, run in the sandbox, its results staged out.

The trusted job worker writes the attempt's inputs (each dataset version as an Arrow IPC
file; the code files are there already) next to an empty scratch directory and starts the
sandbox (``shipyard.sandbox._launch``): no network but its own loopback, the platform's
files hidden, no credentials, an unprivileged uid. What the code reports on the channel
is recorded by ``Recorder``.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from shipyard.datasets import find_version, load_version_table
from shipyard.errors import JobFailed
from shipyard.jobs._attempt import JobAttempt
from shipyard.jobs._log_model import StoredArtifacts
from shipyard.jobs._sandbox_record import Recorder
from shipyard.names import parse_reference
from shipyard.sandbox._context import OUTBOX
from shipyard.sandbox._launch import (
    CHANNEL_LINE_BYTES,
    NOBODY,
    SandboxFailed,
    hidden_paths,
    layout_for,
    open_up,
    start_child,
)

__all__ = ["CodeFailed", "SandboxFailed", "run_isolated"]


class CodeFailed(JobFailed):
    """The sandboxed code raised (the message is its exception's) or its process died."""


@dataclass(frozen=True)
class Outcome:
    """What an isolated attempt produced: run artifacts and the model's files, by path."""

    artifacts: StoredArtifacts
    models: StoredArtifacts


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
    open_up(directory)


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
