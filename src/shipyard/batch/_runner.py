"""The batch kind's work in the job process (under ``shipyard.jobs._main``, settings on stdin).

It reads the input version one chunk at a time (row-group aligned), scores
chunks concurrently (see ``_scorers``), records each finished chunk in the
job's ledger, and streams the outputs in order through the datasets writer
into the output version. Chunks recorded by an earlier attempt are read back
from the blob store, not scored.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from shipyard.batch._plan import OutputPlan
from shipyard.batch._remote_chunks import RemoteChunks
from shipyard.batch._scorers import Scored, Scorer, open_scorer
from shipyard.batch._scoring import ChunkScorer, decode_chunk, load_model
from shipyard.datasets import (
    InPlaceFiles,
    find_version,
    scratch_directory,
    version_files,
    write_version_from_batches,
)
from shipyard.errors import IntegrityError, ShipyardError
from shipyard.flavors import ModelSignature
from shipyard.jobs._attempt import JobAttempt
from shipyard.jobs._attempt import log as _log
from shipyard.jobs._usage import own_peak_mib
from shipyard.platform import Platform
from shipyard.registry import code_grant
from shipyard.store.metadata import export_tables as x
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t

Chunk = tuple[int, int, int]
Pending = Future[Scored] | str


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

    def __init__(self, attempt: JobAttempt) -> None:
        platform, job_id = attempt.platform, attempt.id
        self.platform, self.id, self.job = platform, job_id, attempt
        with platform.db.session() as session:
            job = session.get(x.BatchJob, job_id)
            assert job is not None
            self.attempt, self.spec, self.output = attempt.attempt, job.spec, job.output_name
            self.principal = attempt.principal
            version = session.get(t.ModelVersion, job.model_version_id)
            source = session.get(t.DatasetVersion, job.input_version_id)
            assert version is not None and source is not None
            self.source = source
            self.signature = ModelSignature.model_validate(version.signature)
            self.model: tuple[str, ...] = (
                version.flavor,
                version.digest,
                self.signature.model_dump_json(),
            )
            grant = code_grant(version)
            if grant is not None:
                self.model += (grant.digest, grant.registered_by)
            finished = sa.select(x.BatchChunk.chunk, x.BatchChunk.digest).where(
                x.BatchChunk.job_id == job_id
            )
            self.done = {chunk: digest for chunk, digest in session.execute(finished)}
        self.plan = OutputPlan.model_validate(self.spec["plan"])
        self.scratch = scratch_directory(platform) / f"batch-{job_id}"
        self.finished = 0
        self.last_finished = time.perf_counter()

    def run(self) -> None:
        started = time.perf_counter()
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True)
        try:
            rows, how = self._score()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
        seconds = time.perf_counter() - started
        peak = own_peak_mib()
        summary = f"scored {rows} rows in {seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)"
        self._collect_chunk_blobs()
        # Succeeded first, then the last log line: a follower that reads the line sees the
        # status with it and stops at once, without another back-off of polling.
        with self.platform.db.session() as session:
            self.job.succeed(session, summary)
        _log(f"{summary} on {how}; peak RSS of the job process {peak:.0f} MiB")

    def _prepare(self, inputs: InPlaceFiles) -> tuple[ChunkScorer, list[pq.ParquetFile]]:
        """Load the model while the input is found (read in place from a local store, its
        digest checked in the background; else downloaded, which hashes without the GIL)."""
        started = time.perf_counter()
        with self.platform.db.session() as session:
            stored = version_files(session, self.source)
        with ThreadPoolExecutor(1, thread_name_prefix="input") as finding:
            paths = finding.submit(inputs.paths, stored)
            predictor = load_model(self.platform.blobs, self.model)
            loaded = time.perf_counter() - started
            files = [pq.ParquetFile(path) for path in paths.result()]
        ready = time.perf_counter() - started
        age = _process_age()
        since = f" ({age:.2f} s after the job process started)" if age is not None else ""
        _log(f"model loaded in {loaded:.2f} s, input ready in {ready:.2f} s{since}")
        return ChunkScorer(predictor, self.plan, self.platform.blobs), files

    def _score(self) -> tuple[int, str]:
        with InPlaceFiles(self.platform, self.scratch) as inputs:
            try:
                return self._score_from(inputs)
            except Exception:
                try:
                    inputs.verify()  # a corrupt input explains a failed read best
                except IntegrityError:
                    self._forget_attempt()  # chunks scored from it must not be reused
                    raise
                raise

    def _input_files(self, inputs: InPlaceFiles) -> tuple[list[str], list[pq.ParquetFile]]:
        """The input's file digests and files, for a job whose chunks are scored elsewhere."""
        with self.platform.db.session() as session:
            stored = version_files(session, self.source)
        digests = [f.digest for f in stored]
        return digests, [pq.ParquetFile(path) for path in inputs.paths(stored)]

    def _score_from(self, inputs: InPlaceFiles) -> tuple[int, str]:
        remote = self.job.remote
        if remote is None:
            local, files = self._prepare(inputs)
        else:
            digests, files = self._input_files(inputs)
        chunk_rows = int(self.spec["chunk_rows"])
        chunks = plan_chunks(files, chunk_rows)
        todo = len(chunks) - len(self.done)
        _log(
            f"attempt {self.attempt}: {self.spec['model']} on {self.source.rows} rows in "
            f"{len(chunks)} chunks; {len(chunks) - todo} finished before"
        )
        _set(self.platform, self.id, chunks_total=len(chunks), chunks_done=len(chunks) - todo)
        settings = self.platform.settings
        columns = list(dict.fromkeys([*self.signature.input_names, *self.plan.keep]))
        scorer: Scorer | RemoteChunks
        if remote is not None:
            common = {
                "model": list(self.model),
                "plan": self.plan.model_dump_json(),
                "columns": columns,
                "chunk_rows": chunk_rows,
            }
            scorer = RemoteChunks(
                remote, self.platform.blobs, int(self.spec["workers"]), chunks, digests, common
            )
            pending = self._remote_pending(scorer, len(chunks))
        else:
            scorer = open_scorer(
                self.model[0],
                local,
                int(self.spec["workers"]),
                todo,
                (
                    settings.blobs_url,
                    settings.blob_storage_options,
                    settings.blob_encryption,
                    self.model,
                    self.plan.model_dump_json(),
                ),
            )
            pending = self._local_pending(scorer, files, chunks, columns, chunk_rows)
        try:
            outputs = self._outputs(scorer.slots, pending, len(chunks), inputs.verify)
            version = write_version_from_batches(
                self.platform,
                self.output,
                outputs,
                source=f"batch transform {self.id}",
                created_by=self.principal,
                allow_empty=False,
            )
        finally:
            scorer.close()
        with self.platform.db.session() as session:
            version_id = find_version(session, self.output, version.version).id
        tail = time.perf_counter() - self.last_finished
        _log(
            f"registered dataset version {self.output}@{version.version} ({version.digest}) "
            f"{tail:.2f} s after the last chunk"
        )
        _set(self.platform, self.id, output_version_id=version_id)
        return version.rows, scorer.describe()

    def _local_pending(
        self,
        scorer: Scorer,
        files: list[pq.ParquetFile],
        chunks: list[Chunk],
        columns: list[str],
        chunk_rows: int,
    ) -> Iterator[tuple[int, Pending]]:
        """Each chunk in order: its stored output's digest if done, else its rows submitted."""
        for index, item in _inputs(files, chunks, self.done, columns, chunk_rows):
            yield index, item if isinstance(item, str) else scorer.submit(item)

    def _remote_pending(self, scorer: RemoteChunks, total: int) -> Iterator[tuple[int, Pending]]:
        """Each chunk in order: its stored output's digest if done, else its task submitted."""
        for index in range(total):
            yield index, self.done[index] if index in self.done else scorer.submit(index)

    def _outputs(
        self,
        slots: int,
        pending: Iterator[tuple[int, Pending]],
        total: int,
        verify_inputs: Callable[[], None],
    ) -> Iterator[pa.Table]:
        """Every chunk's output in order, at most two per scoring slot in flight; the input's
        digests are checked before the last one goes out (and so before the output is
        registered)."""
        queue: deque[tuple[int, Pending]] = deque()
        for index, item in pending:
            queue.append((index, item))
            while sum(not isinstance(p, str) for _, p in queue) >= 2 * slots:
                yield self._finish(*queue.popleft(), total)
        while len(queue) > 1:
            yield self._finish(*queue.popleft(), total)
        verify_inputs()
        while queue:
            yield self._finish(*queue.popleft(), total)

    def _finish(self, index: int, pending: Pending, total: int) -> pa.Table:
        """Record a scored chunk (with the job's progress, in one transaction); its output."""
        self.finished += 1
        fraction = self.finished / total
        if isinstance(pending, str):
            table = decode_chunk(self.platform.blobs.get_bytes(pending))
        else:
            digest, table = pending.result()
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
            job.chunks_done = len(self.done)
        self.job.update(
            progress=round(min(fraction, 0.99), 3), message=f"chunk {self.finished} of {total}"
        )
        self.last_finished = time.perf_counter()
        reused = ", reused" if isinstance(pending, str) else ""
        _log(f"[{fraction:4.0%}] chunk {index + 1}/{total} ({table.num_rows} rows{reused})")
        return table

    def _forget_attempt(self) -> None:
        """Drop the chunks this attempt recorded (and their outputs) from the ledger."""
        with self.platform.db.session() as session:
            mine = (x.BatchChunk.job_id == self.id) & (x.BatchChunk.attempt == self.attempt)
            digests = set(session.scalars(sa.select(x.BatchChunk.digest).where(mine)))
            session.execute(sa.delete(x.BatchChunk).where(mine))
            job = session.get(x.BatchJob, self.id)
            if job is not None:
                kept = sa.select(sa.func.count()).where(x.BatchChunk.job_id == self.id)
                job.chunks_done = session.scalar(kept) or 0
        for digest in digests:
            with contextlib.suppress(ShipyardError):
                self.platform.blobs.delete(digest)

    def _collect_chunk_blobs(self) -> None:
        """Delete this job's chunk outputs that no unfinished job still records."""
        with self.platform.db.session() as session:
            still_needed = set(
                session.scalars(
                    sa.select(x.BatchChunk.digest)
                    .join(j.Job, j.Job.id == x.BatchChunk.job_id)
                    .where(j.Job.id != self.id, j.Job.status != "succeeded")
                )
            )
        for digest in set(self.done.values()) - still_needed:
            with contextlib.suppress(ShipyardError):
                self.platform.blobs.delete(digest)


def _process_age() -> float | None:
    """Seconds since this process started (Linux), to show what start-up cost."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return uptime - ticks / os.sysconf("SC_CLK_TCK")


def run(attempt: JobAttempt) -> None:
    """The batch kind's work in the job process: one attempt, reusing finished chunks."""
    _Job(attempt).run()
