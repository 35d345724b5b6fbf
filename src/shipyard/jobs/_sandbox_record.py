"""The trusted side of the sandbox's channel: check each message, record it, collect files.

Everything the child sends is untrusted input: each message is checked (its op, its
fields' types, artifact paths, outbox file names) and a bad one ends the attempt. Metrics,
params, tags, log lines and progress are recorded as they arrive, as in-process code's
are; artifacts and the model are read from the outbox after the child has exited (regular
files only, no links followed, sizes capped) and recorded with the job's success.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidInput, PayloadTooLarge
from shipyard.jobs._attempt import JobAttempt
from shipyard.jobs._log_model import StoredArtifacts
from shipyard.tracking import MetricPoint, check_artifact_path, write_batch

_FILE_NAME = re.compile(r"[0-9]{1,9}")
_RESERVED = ("model/", "code/")
MAX_MESSAGE_CHARS = 2000


class BadMessage(InvalidInput):
    """The sandboxed code sent something the parent does not accept."""


def _text(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str):
        raise BadMessage(f"{message.get('op')} needs a string {key!r}", field=key)
    return value[:MAX_MESSAGE_CHARS]


def _strings(message: dict[str, Any], key: str) -> dict[str, str]:
    value = message.get(key)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BadMessage(f"{message.get('op')} needs a mapping of strings {key!r}", field=key)
    return {str(k): v for k, v in value.items()}


class Recorder:
    """Takes the channel's lines for one attempt's run; then ``collect`` reads the outbox."""

    def __init__(self, job: JobAttempt, run_id: str, outbox: Path, max_bytes: int) -> None:
        self._job, self._run_id, self._outbox, self._max_bytes = job, run_id, outbox, max_bytes
        self.outcome: str | None = None
        self.error = ""
        self._artifacts: dict[str, str] = {}
        self._model: dict[str, str] = {}

    def take(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            raise BadMessage("a line of the channel is not JSON", field="channel") from None
        if not isinstance(message, dict):
            raise BadMessage("a message must be a JSON object", field="channel")
        op = message.get("op")
        if op == "log":
            self._job.log(_text(message, "message"))
        elif op == "progress":
            fraction = message.get("fraction")
            if not isinstance(fraction, int | float):
                raise BadMessage("progress needs a number 'fraction'", field="fraction")
            self._job.progress(float(fraction), _text(message, "stage"))
        elif op in ("metrics", "params", "tags"):
            self._write(op, message)
        elif op == "artifact":
            path = check_artifact_path(_text(message, "path"))
            if path.startswith(_RESERVED):
                raise BadMessage("model/ and code/ are written by the job itself", field="path")
            self._artifacts[path] = self._file_name(_text(message, "file"))
        elif op == "model":
            files = _strings(message, "files")
            for path in files:
                if not check_artifact_path(path).startswith("model/"):
                    raise BadMessage(f"{path!r} is not a model file", field="files")
            self._model = {path: self._file_name(name) for path, name in files.items()}
            self._job.log(f"model serialized ({len(files)} file(s))")
        elif op in ("done", "error", "sandbox"):
            self.outcome = op
            if op != "done":
                self.error = f"{_text(message, 'type')}: " if op == "error" else ""
                self.error += _text(message, "message")
        else:
            raise BadMessage(f"unknown message {str(op)[:40]!r}", field="op")

    def _write(self, op: str, message: dict[str, Any]) -> None:
        points: list[MetricPoint] = []
        params: dict[str, str] = {}
        tags: dict[str, str] = {}
        if op == "metrics":
            values, step = message.get("metrics"), message.get("step", 0)
            if not isinstance(values, dict) or not isinstance(step, int):
                raise BadMessage("metrics needs a mapping 'metrics' and an int 'step'", field=op)
            for key, value in values.items():
                if not isinstance(value, int | float):
                    raise BadMessage(f"metric {str(key)[:80]!r} is not a number", field=op)
                points.append(MetricPoint(key=str(key), value=float(value), step=step))
        elif op == "params":
            params = _strings(message, "params")
        else:
            tags = _strings(message, "tags")
        with self._job.platform.db.session() as session:
            write_batch(session, self._run_id, points, params, tags)

    @staticmethod
    def _file_name(name: str) -> str:
        if _FILE_NAME.fullmatch(name) is None:
            raise BadMessage(f"{name[:40]!r} is not an outbox file name", field="file")
        return name

    def collect(self) -> tuple[StoredArtifacts, StoredArtifacts]:
        """(artifacts, model files) read from the outbox into the blob store."""
        blobs, total = self._job.platform.blobs, 0
        stored: list[StoredArtifacts] = [{}, {}]
        if not (self._artifacts or self._model):
            return stored[0], stored[1]
        outbox = os.open(self._outbox, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            for found, wanted in zip(stored, (self._artifacts, self._model), strict=True):
                for path, name in wanted.items():
                    data = self._read(outbox, name, self._max_bytes - total)
                    total += len(data)
                    found[path] = (blobs.put_bytes(data), len(data))
        finally:
            os.close(outbox)
        return stored[0], stored[1]

    @staticmethod
    def _read(outbox: int, name: str, allowed: int) -> bytes:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=outbox)
        except OSError as error:
            raise BadMessage(f"outbox file {name} cannot be read: {error}", field="file") from None
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
                raise BadMessage(f"outbox file {name} is not a plain file", field="file")
            if info.st_size > allowed:
                raise PayloadTooLarge("the code's artifacts are over the size limit", field="file")
            data = file.read(allowed + 1)
        if len(data) > allowed:
            raise PayloadTooLarge("the code's artifacts are over the size limit", field="file")
        return data
