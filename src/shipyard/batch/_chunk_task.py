"""A batch chunk as an executor task: read its rows, score them, store the output.

On a Ray executor each chunk is one task: it reads its slice of the input's row group
from the blob store (in place from a local store's plaintext file, else the file is
fetched, and decrypted, once per worker process), scores it with the model (loaded once
per worker process, its digest checked) and stores the output exactly as the job process
would, so both give the same digests. It returns the output's digest; the job process
records the chunk as done.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from shipyard.batch._plan import OutputPlan
from shipyard.batch._scoring import ChunkScorer, load_model, score_and_store
from shipyard.errors import IntegrityError
from shipyard.executors import task_platform

ENTRY = "shipyard.batch._chunk_task:score_chunk_task"

_scorers: dict[tuple[str, ...], ChunkScorer] = {}
_files: dict[tuple[str, str], Path] = {}
_downloads: tempfile.TemporaryDirectory[str] | None = None


def _scorer(model: tuple[str, ...], plan_json: str) -> ChunkScorer:
    blobs = task_platform().blobs
    key = (blobs.url, *model, plan_json)
    if key not in _scorers:
        predictor = load_model(blobs, model)
        _scorers.clear()  # one model at a time per worker process
        _scorers[key] = ChunkScorer(predictor, OutputPlan.model_validate_json(plan_json), blobs)
    return _scorers[key]


def _file(digest: str) -> Path:
    """Where the input file ``digest`` can be read in this process (the job process checks
    every input file's digest before it registers the output)."""
    global _downloads
    blobs = task_platform().blobs
    key = (blobs.url, digest)
    if key not in _files:
        in_place = blobs.local_file(digest)
        if in_place is not None:
            _files[key] = in_place
        else:
            if _downloads is None:
                _downloads = tempfile.TemporaryDirectory(prefix="shipyard-chunks-")
            target = Path(_downloads.name) / f"{len(_files)}.parquet"
            _files[key] = blobs.download(digest, target, durable=False)
    return _files[key]


def score_chunk_task(payload: dict[str, Any]) -> dict[str, Any]:
    """Score chunk ``position`` of row group ``group`` of input file ``file``."""
    scorer = _scorer(tuple(payload["model"]), payload["plan"])
    parquet = pq.ParquetFile(_file(payload["file"]))
    batches = parquet.iter_batches(
        batch_size=payload["chunk_rows"], row_groups=[payload["group"]], columns=payload["columns"]
    )
    batch = next(itertools.islice(batches, payload["position"], None), None)
    if batch is None:
        raise IntegrityError(f"row group {payload['group']} has no chunk {payload['position']}")
    if batch.num_rows != payload["rows"]:
        raise IntegrityError(f"chunk has {batch.num_rows} rows, not {payload['rows']}")
    digest, output = score_and_store(scorer, batch)
    return {"digest": digest, "rows": output.num_rows}
