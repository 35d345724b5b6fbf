"""Where chunks are scored: threads of the job process, or a spawn pool the job process helps.

A model whose batch predict runs in native code that lets go of the GIL (LightGBM,
XGBoost, ONNX Runtime) scores on threads of the job process: nothing to start, no
batches copied between processes. Starting a spawn worker costs seconds (a fresh
interpreter, its imports, the model), which dominated small jobs.

Any other model scores on a spawn process pool, so Python-level model code runs
in parallel. The job process scores the first chunk itself and starts the pool
only when the chunks left would take it longer than starting workers does; until
every worker is up it keeps scoring chunks whenever it is idle.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Protocol

import pyarrow as pa

from shipyard.batch._scoring import ChunkScorer, init_worker, ready, score_chunk

NATIVE_FLAVORS = frozenset({"lightgbm", "xgboost", "onnx"})
# Seconds to bring up a spawn worker (interpreter, imports, model) on a 2-core machine.
WORKER_START_SECONDS = 3.0

Scored = tuple[str, pa.Table]
PoolArgs = tuple[str, dict[str, object], dict[str, object] | None, tuple[str, ...], str]


class Scorer(Protocol):
    """Scores chunks concurrently; ``slots`` is how many it works on at once."""

    slots: int

    def submit(self, batch: pa.RecordBatch) -> Future[Scored]: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


def open_scorer(
    flavor: str, local: ChunkScorer, workers: int, chunks: int, pool_args: PoolArgs
) -> Scorer:
    """Threads for native flavors, else a process pool started when it pays off."""
    if flavor in NATIVE_FLAVORS:
        return ThreadScorer(local, workers)
    return PoolScorer(local, workers, chunks, pool_args)


class ThreadScorer:
    """``threads`` threads of the job process, each scoring one chunk at a time.

    A scored chunk's output is stored (LZ4, hashed, written and synced) by one more thread,
    in submission order, so scoring threads go on to their next chunk instead of waiting on
    the disk.
    """

    def __init__(self, scorer: ChunkScorer, threads: int) -> None:
        self.slots = threads
        self._scorer = scorer
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="score")
        self._ledger = ThreadPoolExecutor(1, thread_name_prefix="ledger")

    def submit(self, batch: pa.RecordBatch) -> Future[Scored]:
        return self._ledger.submit(self._store, self._pool.submit(self._scorer.score, batch))

    def _store(self, scored: Future[pa.Table]) -> Scored:
        output = scored.result()
        return self._scorer.store(output), output

    def describe(self) -> str:
        return f"{self.slots} thread(s) of the job process"

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._ledger.shutdown(wait=True, cancel_futures=True)


class PoolScorer:
    """A spawn pool of ``workers`` processes, with the job process scoring until they are up."""

    def __init__(
        self,
        score: Callable[[pa.RecordBatch], Scored],
        workers: int,
        chunks: int,
        pool_args: PoolArgs,
    ) -> None:
        self.slots = workers
        self._score = score
        self._chunks = chunks
        self._pool_args = pool_args
        self._local = ThreadPoolExecutor(1, thread_name_prefix="score")
        self._local_pending: list[Future[Scored]] = []
        self._local_seconds: float | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._ready: list[Future[bool]] = []
        self._submitted = 0
        self._decided = False
        self.chunks_on_workers = 0
        self._lock = threading.Lock()

    def submit(self, batch: pa.RecordBatch) -> Future[Scored]:
        self._submitted += 1
        self._decide()
        self._local_pending = [f for f in self._local_pending if not f.done()]
        pool_up = self._pool is not None and all(f.done() for f in self._ready)
        if self._pool is None or (not pool_up and not self._local_pending):
            future = self._local.submit(self._timed, batch)
            self._local_pending.append(future)
            return future
        self.chunks_on_workers += 1
        return self._pool.submit(score_chunk, batch)

    def _timed(self, batch: pa.RecordBatch) -> Scored:
        started = time.perf_counter()
        scored = self._score(batch)
        with self._lock:
            if self._local_seconds is None:
                self._local_seconds = time.perf_counter() - started
        return scored

    def _decide(self) -> None:
        """Once one chunk was timed here: start the pool if the rest would take longer alone."""
        with self._lock:
            seconds = self._local_seconds
        if self._decided or seconds is None:
            return
        self._decided = True
        left = self._chunks - self._submitted + 1
        if seconds * left <= WORKER_START_SECONDS:
            return
        self._pool = ProcessPoolExecutor(
            self.slots,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=self._pool_args,
        )
        self._ready = [self._pool.submit(ready) for _ in range(self.slots)]

    @property
    def workers_ready(self) -> int:
        """How many workers have started and loaded the model."""
        return sum(f.done() and f.exception() is None for f in self._ready)

    def describe(self) -> str:
        if self._pool is None:
            return "the job process (too little work to start workers)"
        here = self._submitted - self.chunks_on_workers
        return (
            f"{self.slots} worker process(es) ({self.chunks_on_workers} chunks) and the job "
            f"process while they started ({here} chunks)"
        )

    def close(self) -> None:
        self._local.shutdown(wait=True, cancel_futures=True)
        if self._pool is not None:
            # Workers finish exiting while the output is registered.
            self._pool.shutdown(wait=False, cancel_futures=True)
