"""The batch job process (started as ``python -m shipyard.batch._main JOB_ID``, settings on stdin).

It reads the input version one chunk at a time (row-group aligned), scores
chunks on a spawn process pool, records each finished chunk, and streams the
outputs in order into one Parquet file that becomes the output version. Chunks
recorded by an earlier attempt are read back from the blob store, not scored.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import shutil
import sys
import time
import traceback
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from shipyard.batch._output import OutputWriter, register_dataset_file
from shipyard.batch._plan import OutputPlan
from shipyard.batch._scoring import init_worker, ready, score_chunk
from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.datasets import download_version_files
from shipyard.errors import IntegrityError, ShipyardError
from shipyard.flavors import ModelSignature
from shipyard.platform import Platform
from shipyard.store.metadata import export_tables as x
from shipyard.store.metadata import tables as t

Chunk = tuple[int, int, int]
Pending = Future[tuple[int, str, pa.Table]] | str


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def _set(platform: Platform, job_id: str, **fields: object) -> None:
    with platform.db.session() as session:
        row = session.get(x.BatchJob, job_id)
        if row is not None:
            for key, value in fields.items():
                setattr(row, key, value)


def plan_chunks(files: list[pq.ParquetFile], chunk_rows: int) -> list[Chunk]:
    """``(file, row group, rows)`` of every chunk, in order; chunks never span row groups."""
    chunks = []
    for number, parquet in enumerate(files):
        for group in range(parquet.metadata.num_row_groups):
            rows = parquet.metadata.row_group(group).num_rows
            chunks += [
                (number, group, min(chunk_rows, rows - start))
                for start in range(0, rows, chunk_rows)
            ]
    return chunks


def _inputs(
    files: list[pq.ParquetFile],
    chunks: list[Chunk],
    done: dict[int, str],
    columns: list[str],
    chunk_rows: int,
) -> Iterator[tuple[int, pa.RecordBatch | str]]:
    """Each chunk in order: its stored output digest if done, else its input rows."""
    groups: dict[tuple[int, int], list[int]] = {}
    for index, (number, group, _) in enumerate(chunks):
        groups.setdefault((number, group), []).append(index)
    for (number, group), indexes in groups.items():
        if all(i in done for i in indexes):
            yield from ((i, done[i]) for i in indexes)
            continue
        batches = files[number].iter_batches(
            batch_size=chunk_rows, row_groups=[group], columns=columns
        )
        for index, batch in zip(indexes, batches, strict=True):
            if batch.num_rows != chunks[index][2]:
                raise IntegrityError(
                    f"chunk {index} has {batch.num_rows} rows, not {chunks[index][2]}"
                )
            yield index, done.get(index, batch)


class _Job:
    """One attempt at a batch job."""

    def __init__(self, platform: Platform, job_id: str) -> None:
        self.platform, self.id = platform, job_id
        with platform.db.session() as session:
            job = session.get(x.BatchJob, job_id)
            if job is None:
                raise SystemExit(f"batch job {job_id} does not exist")
            job.status, job.pid, job.message = "running", os.getpid(), "starting"
            job.attempts += 1
            self.attempt, self.spec, self.output = job.attempts, job.spec, job.output_name
            self.principal = job.created_by
            version = session.get(t.ModelVersion, job.model_version_id)
            source = session.get(t.DatasetVersion, job.input_version_id)
            assert version is not None and source is not None
            self.source = source
            self.signature = ModelSignature.model_validate(version.signature)
            self.model = (version.flavor, version.digest, self.signature.model_dump_json())
            finished = sa.select(x.BatchChunk.chunk, x.BatchChunk.digest).where(
                x.BatchChunk.job_id == job_id
            )
            self.done = {chunk: digest for chunk, digest in session.execute(finished)}
        self.plan = OutputPlan.model_validate(self.spec["plan"])
        self.scratch = platform.settings.jobs_dir / f"batch-{job_id}"
        self.finished = 0

    def run(self) -> None:
        started = time.perf_counter()
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True)
        try:
            rows = self._score()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
        seconds = time.perf_counter() - started
        peak = _peak_rss_mib()
        summary = f"scored {rows} rows in {seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)"
        _log(f"{summary}; peak RSS of the job process {peak:.0f} MiB")
        self._collect_chunk_blobs()
        _set(
            self.platform,
            self.id,
            status="succeeded",
            progress=1.0,
            message=summary,
            ended_at=utcnow(),
        )

    def _score(self) -> int:
        workers = int(self.spec["workers"])
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(
                self.platform.settings.blobs_url,
                self.platform.settings.blob_storage_options,
                self.model,
                self.plan.model_dump_json(),
                str(self.scratch),
            ),
        )
        try:
            writer = self._score_on(pool, workers)
        finally:
            # Workers finish exiting while the output is written and registered.
            pool.shutdown(wait=False, cancel_futures=True)
        writer.close()
        rows = writer.profile.rows if writer.profile else 0
        self._register(writer, rows)
        return rows

    def _score_on(self, pool: ProcessPoolExecutor, workers: int) -> OutputWriter:
        for _ in range(workers):
            pool.submit(ready)  # workers start and load the model while the input downloads
        paths = download_version_files(self.platform, self.source, self.scratch / "input")
        files = [pq.ParquetFile(path) for path in paths]
        chunk_rows = int(self.spec["chunk_rows"])
        chunks = plan_chunks(files, chunk_rows)
        todo = len(chunks) - len(self.done)
        _log(
            f"attempt {self.attempt}: {self.spec['model']} on {self.source.rows} rows in "
            f"{len(chunks)} chunks; {len(chunks) - todo} finished before"
        )
        _set(self.platform, self.id, chunks_total=len(chunks), chunks_done=len(chunks) - todo)
        columns = list(dict.fromkeys([*self.signature.input_names, *self.plan.keep]))
        writer = OutputWriter(self.scratch / "output.parquet", self.source.rows)
        queue: deque[tuple[int, Pending]] = deque()
        for index, item in _inputs(files, chunks, self.done, columns, chunk_rows):
            pending = item if isinstance(item, str) else pool.submit(score_chunk, index, item)
            queue.append((index, pending))
            while sum(not isinstance(p, str) for _, p in queue) >= 2 * workers:
                self._finish(*queue.popleft(), writer, len(chunks))
        while queue:
            self._finish(*queue.popleft(), writer, len(chunks))
        return writer

    def _finish(self, index: int, pending: Pending, writer: OutputWriter, total: int) -> None:
        """Record a scored chunk (with the job's progress, in one transaction), then write it."""
        self.finished += 1
        fraction = self.finished / total
        if isinstance(pending, str):
            table = pq.read_table(pa.BufferReader(self.platform.blobs.get_bytes(pending)))
        else:
            _, digest, table = pending.result()
            self.done[index] = digest
        with self.platform.db.session() as session:
            if not isinstance(pending, str):
                session.add(
                    x.BatchChunk(
                        job_id=self.id,
                        chunk=index,
                        rows=table.num_rows,
                        digest=self.done[index],
                        attempt=self.attempt,
                    )
                )
            job = session.get(x.BatchJob, self.id)
            assert job is not None
            job.progress = round(min(fraction, 0.99), 3)
            job.chunks_done = len(self.done)
            job.message = f"chunk {self.finished} of {total}"
        writer.write(table, index)
        reused = ", reused" if isinstance(pending, str) else ""
        _log(f"[{fraction:4.0%}] chunk {index + 1}/{total} ({table.num_rows} rows{reused})")

    def _register(self, writer: OutputWriter, rows: int) -> None:
        if writer.profile is None:
            raise IntegrityError("the input dataset has no rows to score")
        schema, profile = writer.profile.result()
        version = register_dataset_file(
            self.platform,
            self.output,
            writer.path,
            rows=rows,
            columns=[c.model_dump() for c in schema],
            profile=profile,
            principal=self.principal,
            source=f"batch transform {self.id}",
        )
        _log(f"registered dataset version {self.output}@{version.version} ({version.digest})")
        _set(self.platform, self.id, output_version_id=version.id)

    def _collect_chunk_blobs(self) -> None:
        """Delete this job's chunk outputs that no unfinished job still records."""
        with self.platform.db.session() as session:
            still_needed = set(
                session.scalars(
                    sa.select(x.BatchChunk.digest)
                    .join(x.BatchJob, x.BatchJob.id == x.BatchChunk.job_id)
                    .where(x.BatchJob.id != self.id, x.BatchJob.status != "succeeded")
                )
            )
        for digest in set(self.done.values()) - still_needed:
            with contextlib.suppress(ShipyardError):
                self.platform.blobs.delete(digest)


def _peak_rss_mib() -> float:
    """This process's peak RSS since it started its program (VmHWM; getrusage also counts
    the launching process's pages from before exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    job_id = argv[1]
    settings = Settings.model_validate_json(sys.stdin.buffer.read())
    platform = Platform.open(settings, migrate=False)
    try:
        _Job(platform, job_id).run()
    except ShipyardError as error:
        _log(f"failed: {error}")
        _set(
            platform,
            job_id,
            status="failed",
            message=f"{error}; resume to continue",
            ended_at=utcnow(),
        )
        return 1
    except Exception as error:
        traceback.print_exc()
        _set(
            platform,
            job_id,
            status="failed",
            message=f"{type(error).__name__}: {error}",
            ended_at=utcnow(),
        )
        return 1
    finally:
        platform.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
