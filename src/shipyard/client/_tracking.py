"""Experiment tracking in the SDK: runs as context managers that log metrics in batches."""

from __future__ import annotations

import os
import time
from contextvars import ContextVar, Token
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from shipyard.client._group import _Group, read_file
from shipyard.client._paging import Listing, fetch_listing
from shipyard.client._transport import Transport
from shipyard.errors import InvalidInput
from shipyard.schemas.tracking import (
    ArtifactInfo,
    ExperimentInfo,
    MetricChart,
    MetricPoint,
    MetricSeries,
    RunInfo,
    RunPage,
    RunPurgeInfo,
)

if TYPE_CHECKING:
    from shipyard.client._log_model import LoggedModel

_ACTIVE: ContextVar[tuple[ActiveRun, ...]] = ContextVar("shipyard_active_runs", default=())
"""The runs whose ``with`` blocks enclose the current code, innermost last."""


class ActiveRun:
    """A running run. Metrics are buffered and sent in batches; leaving the block ends the run."""

    def __init__(
        self,
        transport: Transport,
        info: RunInfo,
        *,
        batch_size: int = 1000,
        flush_seconds: float = 2.0,
    ) -> None:
        self._t = transport
        self.info = info
        self._pending: list[dict[str, Any]] = []
        self._batch_size = batch_size
        self._flush_seconds = flush_seconds
        self._last_flush = time.monotonic()
        self._entered: list[Token[tuple[ActiveRun, ...]]] = []

    @property
    def id(self) -> str:
        return self.info.id

    def log_metric(
        self, key: str, value: float, step: int = 0, timestamp: float | None = None
    ) -> None:
        self._pending.append(
            {"key": key, "value": float(value), "step": step, "timestamp": timestamp or time.time()}
        )
        if (
            len(self._pending) >= self._batch_size
            or time.monotonic() - self._last_flush > self._flush_seconds
        ):
            self.flush()

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        now = time.time()
        for key, value in metrics.items():
            self.log_metric(key, value, step=step, timestamp=now)

    def log_params(self, params: dict[str, Any]) -> None:
        self._t.call(
            "tracking.log_batch", run_id=self.id, params={k: str(v) for k, v in params.items()}
        )

    def set_tags(self, tags: dict[str, Any]) -> None:
        self._t.call(
            "tracking.log_batch", run_id=self.id, tags={k: str(v) for k, v in tags.items()}
        )

    def log_artifact(self, path: str | os.PathLike[str], name: str | None = None) -> ArtifactInfo:
        data = read_file(path)
        return ArtifactInfo.model_validate(
            self._t.call(
                "tracking.log_artifact", run_id=self.id, path=name or Path(path).name, content=data
            )
        )

    def log_model(self, model: Any, **options: Any) -> LoggedModel:
        """Store ``model`` as this run's model (see ``Client.log_model``); register it after
        the run ends with ``client.models.register(name, run.id)``."""
        if "name" in options:
            raise InvalidInput(
                "register after the run ends: client.models.register(name, run.id)", field="name"
            )
        from shipyard.client._log_model import log_model

        return log_model(self._t, self.id, model, **options)

    def flush(self) -> None:
        """Send buffered metrics now."""
        if self._pending:
            batch, self._pending = self._pending, []
            self._t.call("tracking.log_batch", run_id=self.id, metrics=batch)
        self._last_flush = time.monotonic()

    def end(self, status: str = "finished") -> RunInfo:
        self.flush()
        self.info = RunInfo.model_validate(
            self._t.call("tracking.end_run", run_id=self.id, status=status)
        )
        return self.info

    def __enter__(self) -> ActiveRun:
        self._entered.append(_ACTIVE.set((*_ACTIVE.get(), self)))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._entered:
            _ACTIVE.reset(self._entered.pop())
        self.end("failed" if exc_type else "finished")


def _enclosing(transport: Transport, experiment: str) -> ActiveRun | None:
    """The innermost run entered with ``with`` on this transport in ``experiment``."""
    for run in reversed(_ACTIVE.get()):
        if run._t is transport and run.info.experiment == experiment:
            return run
    return None


class Tracking(_Group):
    def create_experiment(self, name: str, tags: dict[str, str] | None = None) -> ExperimentInfo:
        """Create an experiment; ``tags`` are set at creation (which needs
        ``tracking:TagResource`` too)."""
        args: dict[str, object] = {"name": name}
        if tags:
            args["tags"] = tags
        return ExperimentInfo.model_validate(self._t.call("tracking.create_experiment", **args))

    def list_experiments(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        name_contains: str | None = None,
    ) -> Listing[ExperimentInfo]:
        """Experiments by name (those whose name holds ``name_contains``, any case): every
        one, or with ``limit``/``page_token`` one page."""
        return fetch_listing(
            self._t,
            "tracking.list_experiments",
            ExperimentInfo,
            limit,
            page_token,
            name_contains=name_contains,
        )

    def start_run(
        self,
        experiment: str = "default",
        name: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        parent: str | ActiveRun | None = None,
        nested: bool = True,
    ) -> ActiveRun:
        """Start a run. Inside another run's ``with`` block of the same experiment it
        becomes that run's child, unless ``parent`` names another or ``nested=False``."""
        if parent is None and nested:
            parent = _enclosing(self._t, experiment)
        info = self._t.call(
            "tracking.create_run",
            experiment=experiment,
            name=name,
            params={k: str(v) for k, v in (params or {}).items()},
            tags={k: str(v) for k, v in (tags or {}).items()},
            parent=parent.id if isinstance(parent, ActiveRun) else parent,
        )
        return ActiveRun(self._t, RunInfo.model_validate(info))

    def get_run(self, run_id: str) -> RunInfo:
        return RunInfo.model_validate(self._t.call("tracking.get_run", run_id=run_id))

    def list_runs(
        self, experiment: str = "default", limit: int = 100, view: str = "active"
    ) -> list[RunInfo]:
        """The newest runs: ``active`` (not deleted), ``deleted`` or ``all``."""
        runs = self._t.call("tracking.list_runs", experiment=experiment, limit=limit, view=view)
        return [RunInfo.model_validate(r) for r in runs]

    def delete_run(self, run_id: str) -> RunInfo:
        """Delete a run softly: hidden from ``list_runs``, restorable, nothing removed."""
        return RunInfo.model_validate(self._t.call("tracking.delete_run", run_id=run_id))

    def restore_run(self, run_id: str) -> RunInfo:
        return RunInfo.model_validate(self._t.call("tracking.restore_run", run_id=run_id))

    def purge_runs(
        self,
        run_ids: list[str] | None = None,
        *,
        reason: str,
        experiment: str | None = None,
        older_than: str | None = None,
        dry_run: bool = False,
    ) -> RunPurgeInfo:
        """Purge deleted runs for good (MLflow's ``gc``): the runs named, or the deleted
        runs of ``experiment`` (deleted at least ``older_than`` ago, e.g. ``"30d"``). Their
        params, metrics, tags and artifacts go; a tombstone stays in lineage."""
        return RunPurgeInfo.model_validate(
            self._t.call(
                "tracking.purge_runs",
                run_ids=run_ids,
                experiment=experiment,
                older_than=older_than,
                reason=reason,
                dry_run=dry_run,
            )
        )

    def search_runs(
        self,
        experiments: list[str] | None = None,
        filter: str = "",
        order_by: list[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunPage:
        """Runs matching an MLflow-syntax filter, e.g. ``"metrics.auc > 0.8 and
        params.depth = '6'"``, sorted by ``order_by`` (``["metrics.auc DESC"]``), one page."""
        return RunPage.model_validate(
            self._t.call(
                "tracking.search_runs",
                experiments=experiments,
                filter=filter,
                order_by=order_by,
                max_results=max_results,
                page_token=page_token,
            )
        )

    def children(self, run_id: str, experiment: str | None = None) -> list[RunInfo]:
        """The runs nested under ``run_id``, newest first (every page)."""
        experiments = [experiment or self.get_run(run_id).experiment]
        found: list[RunInfo] = []
        token: str | None = None
        while True:
            page = self.search_runs(
                experiments,
                "attributes.parent_run_id = '{}'".format(run_id.replace("'", "''")),
                max_results=1000,
                page_token=token,
            )
            found.extend(page.runs)
            token = page.next_page_token
            if token is None:
                return found

    def metric_series(self, run_id: str, key: str | None = None) -> dict[str, MetricSeries]:
        """A run's metric histories (every key, or one) as columns: steps, values, times."""
        series = self._t.call("tracking.metric_series", run_id=run_id, key=key)
        return {s["key"]: MetricSeries.model_validate(s) for s in series}

    def metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        """Every logged value of one metric as point objects (``metric_series`` is faster
        for long histories)."""
        series = self.metric_series(run_id, key).get(key)
        return [] if series is None else series.points()

    def metric_chart(self, run_id: str, key: str, max_points: int = 500) -> MetricChart:
        """One metric's history folded on the server into at most ``max_points`` buckets
        of steps, each with its min, max, mean and count (for charts of long histories)."""
        return MetricChart.model_validate(
            self._t.call("tracking.metric_chart", run_id=run_id, key=key, max_points=max_points)
        )

    def get_artifact(self, run_id: str, path: str) -> bytes:
        data = self._t.call("tracking.get_artifact", run_id=run_id, path=path)
        assert isinstance(data, bytes)
        return data
