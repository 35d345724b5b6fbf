"""What the tracking service takes and returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, TypeAdapter

from shipyard.schemas._base import WireModel


class ExperimentInfo(WireModel):
    name: str
    id: int
    created_at: datetime
    runs: int = 0

    @property
    def resource(self) -> str:
        return f"sy:experiment/{self.name}"


class MetricPoint(WireModel):
    """One logged value of a metric."""

    key: str = Field(min_length=1, max_length=250)
    value: float
    step: int = 0
    timestamp: float | None = None


class ArtifactInfo(WireModel):
    path: str
    digest: str
    size_bytes: int


class RunInfo(WireModel):
    """A run: its parameters, tags, latest metric values, artifacts and inputs."""

    id: str
    experiment: str
    name: str
    status: str
    created_by: str
    start_time: datetime
    end_time: datetime | None
    parent_run_id: str | None = None
    deleted: bool = False
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    artifacts: list[ArtifactInfo] = Field(default_factory=list)
    inputs: list[str] = Field(default_factory=list)
    input_models: list[str] = Field(default_factory=list)
    """Registered model versions (``name@version``) the run continued training from."""

    @property
    def resource(self) -> str:
        return f"sy:run/{self.id}"


class RunPage(WireModel):
    """One page of a run search; pass ``next_page_token`` back for the next (None at the end)."""

    runs: list[RunInfo]
    next_page_token: str | None = None


class RunPurgeInfo(WireModel):
    """What a purge of deleted runs did (in a dry run: would do): the runs now tombstones,
    the artifact blobs purged, and those kept because something live still names them."""

    resource_name: str
    purged: list[str]
    """Ids of the runs purged (or, in a dry run, that would be)."""
    purged_blobs: int = 0
    kept_blobs: list[str] = Field(default_factory=list)
    purged_by: str
    purged_at: datetime
    reason: str
    dry_run: bool = False
    more: bool = False
    """An experiment had more deleted runs than one call purges: call again for the rest."""

    @property
    def resource(self) -> str:
        return self.resource_name

    def audit_detail(self) -> dict[str, object]:
        """What the audit log records: each run purged and the blobs that went."""
        return {"purged": self.purged, "purged_blobs": self.purged_blobs}


class MetricSeries(WireModel):
    """Every logged value of one metric in columns, ordered by step, then time, then write."""

    key: str
    steps: list[int] = Field(default_factory=list)
    values: list[float] = Field(default_factory=list)
    timestamps: list[float] = Field(default_factory=list)

    def points(self) -> list[MetricPoint]:
        """The history as point objects (validated as one list: a fraction of the cost of
        building them one by one)."""
        key = self.key
        return _POINTS.validate_python(
            [
                {"key": key, "value": v, "step": s, "timestamp": t}
                for s, v, t in zip(self.steps, self.values, self.timestamps, strict=True)
            ]
        )


_POINTS = TypeAdapter(list[MetricPoint])


class MetricChart(WireModel):
    """One metric of one run, bucketed by step: parallel lists, one entry per bucket."""

    run_id: str
    key: str
    total_points: int
    step_first: list[int]
    step_last: list[int]
    min: list[float]
    max: list[float]
    mean: list[float]
    count: list[int]
