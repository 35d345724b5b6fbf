"""The training context inside the sandbox: the same API, its writes sent to the parent.

Metrics, params, tags, log lines and progress go to the trusted parent as JSON lines on
the channel; artifacts and the model's files (serialized here in their safe formats, as
``client.log_model`` does) go into the outbox in scratch, named in a message. The parent
checks and records them; nothing here can reach the metadata database or the blob store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

OUTBOX = ".shipyard-outbox"
_RESERVED = ("model/", "code/")


class Channel:
    """JSON lines to the parent, and numbered files in the outbox."""

    def __init__(self, stream: IO[str], outbox: Path) -> None:
        self._stream, self._outbox, self._files = stream, outbox, 0
        outbox.mkdir(exist_ok=True)

    def send(self, op: str, **fields: Any) -> None:
        self._stream.write(json.dumps({"op": op, **fields}) + "\n")
        self._stream.flush()

    def put(self, data: bytes) -> str:
        """Write ``data`` to a new outbox file; its name for a message."""
        self._files += 1
        name = str(self._files)
        (self._outbox / name).write_bytes(data)
        return name


class SandboxRunLog:
    """The job's run as the sandboxed code sees it (``context.run``)."""

    def __init__(self, channel: Channel, run_id: str) -> None:
        self._channel, self.id = channel, run_id

    def log_params(self, params: dict[str, Any]) -> None:
        self._channel.send("params", params={k: str(v) for k, v in params.items()})

    def log_metric(self, key: str, value: float, step: int = 0) -> None:
        self.log_metrics({key: value}, step)

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        points = {str(k): float(v) for k, v in metrics.items()}
        self._channel.send("metrics", metrics=points, step=int(step))

    def set_tags(self, tags: dict[str, Any]) -> None:
        self._channel.send("tags", tags={k: str(v) for k, v in tags.items()})

    def log_artifact(self, path: str, data: bytes) -> None:
        if path.startswith(_RESERVED):
            raise InvalidInput("model/ and code/ are written by the job itself", field="path")
        self._channel.send("artifact", path=path, file=self._channel.put(bytes(data)))


class SandboxContext:
    """Handed to ``entrypoint(context)`` in the sandbox: ``params``, ``run``, the staged
    datasets (``table()``, ``frame()``), ``log_model``, ``log`` and ``progress``."""

    def __init__(
        self,
        channel: Channel,
        job_id: str,
        run_id: str,
        params: dict[str, Any],
        datasets: dict[str, str],
        inputs: Path,
    ) -> None:
        self._channel, self._inputs = channel, inputs
        self.params = dict(params)
        self.run = SandboxRunLog(channel, run_id)
        self.datasets = dict(datasets)
        self.job_id = job_id
        self._tables: dict[str, pa.Table] = {}

    def table(self, name: str | None = None) -> pa.Table:
        """A dataset version of the spec as an Arrow table (the only one if no name)."""
        import pyarrow as pa

        key = self._name(name)
        if key not in self._tables:
            with pa.memory_map(str(self._inputs / f"{key}.arrow")) as source:
                self._tables[key] = pa.ipc.open_file(source).read_all()
        return self._tables[key]

    def frame(self, name: str | None = None) -> pd.DataFrame:
        """A dataset version of the spec as a pandas DataFrame."""
        return self.table(name).to_pandas()

    def log_model(self, model: Any, input_example: Any = None, **options: Any) -> None:
        """Serialize the fitted model in its safe format (``client.log_model``'s options);
        the run gets ``model/`` when the job succeeds (a later call replaces an earlier)."""
        from shipyard.flavors import save_for_logging

        saved = save_for_logging(model, input_example=input_example, **options)
        files = {path: self._channel.put(data) for path, data in saved.artifacts()}
        self._channel.send("model", files=files)

    def log(self, message: str) -> None:
        self._channel.send("log", message=str(message))

    def progress(self, fraction: float, stage: str) -> None:
        self._channel.send("progress", fraction=float(fraction), stage=str(stage))

    def _name(self, name: str | None) -> str:
        if name is None:
            if len(self.datasets) != 1:
                raise InvalidInput(f"name one of {sorted(self.datasets)}", field="name")
            return next(iter(self.datasets))
        if name not in self.datasets:
            raise InvalidInput(f"{name!r} is not one of {sorted(self.datasets)}", field="name")
        return name
