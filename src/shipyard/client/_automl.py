"""AutoML in the SDK: start a search under a budget, follow it, read its leaderboard."""

from __future__ import annotations

from typing import Any

from shipyard.client._jobs import JobGroup
from shipyard.schemas.automl import Leaderboard
from shipyard.schemas.jobs import AutoMLJobInfo, JobLimits


class AutoML(JobGroup[AutoMLJobInfo]):
    prefix, noun, info_type = "automl", "automl job", AutoMLJobInfo

    def start(
        self,
        dataset: str,
        *,
        target: str,
        budget: str | float = "10m",
        metric: str | None = None,
        task: str | None = None,
        register: str | None = None,
        experiment: str = "default",
        ensemble: bool = True,
        folds: int = 5,
        seed: int = 0,
        force: bool = False,
        limits: JobLimits | dict[str, Any] | None = None,
    ) -> AutoMLJobInfo:
        """Start a search on dataset version ``dataset`` (``name@3``) for ``target`` within
        ``budget`` (``90s``, ``10m``, ``1h`` or seconds); ``register`` names the model its
        winner becomes the next version of."""
        return AutoMLJobInfo.model_validate(
            self._t.call(
                "automl.create_job",
                dataset=dataset,
                target=target,
                budget=budget if isinstance(budget, str) else f"{float(budget):g}s",
                metric=metric,
                task=task,
                register_to=register,
                experiment=experiment,
                ensemble=ensemble,
                folds=folds,
                seed=seed,
                force=force,
                limits=None if limits is None else JobLimits.model_validate(limits),
            )
        )

    def run(self, dataset: str, **options: Any) -> AutoMLJobInfo:
        """Start a search and wait for it; ``options`` go to start, or to wait (timeout...)."""
        waits = {k: options.pop(k) for k in ("on_log", "on_progress", "timeout") if k in options}
        return self.wait(self.start(dataset, **options).id, **waits)

    def leaderboard(self, job: str | AutoMLJobInfo) -> Leaderboard:
        """The ranked families (and ensemble) of a succeeded job, with the winner marked."""
        job_id = job if isinstance(job, str) else job.id
        return Leaderboard.model_validate(self._t.call("automl.leaderboard", job_id=job_id))
