"""Tuning jobs in the SDK: start a search, follow it, read its trials, best and report."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

from shipyard.client._jobs import JobGroup
from shipyard.client._training import code_files, read_spec
from shipyard.schemas.jobs import TuningJobInfo
from shipyard.schemas.registry import ModelVersionInfo
from shipyard.schemas.tuning import TrialInfo, TuningBest


def resolve_tuning_spec(
    spec: dict[str, Any] | str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, str] | None]:
    """The spec with its training spec inline (``training: train.yaml`` is read relative to
    the tuning spec's folder), and own code's files when the training has an entrypoint."""
    body = dict(spec) if isinstance(spec, dict) else read_spec(spec)
    base = Path.cwd() if isinstance(spec, dict) else Path(spec).parent
    training = body.get("training")
    if isinstance(training, str | os.PathLike):
        path = Path(training)
        path = path if path.is_absolute() else base / path
        training, base = read_spec(path), path.parent
        body["training"] = training
    if isinstance(training, dict) and "entrypoint" in training:
        training, files = code_files(training, base)
        return body | {"training": training}, files
    return body, None


class Tuning(JobGroup[TuningJobInfo]):
    prefix, noun, info_type = "tuning", "tuning job", TuningJobInfo

    def start(self, spec: dict[str, Any] | str | os.PathLike[str]) -> TuningJobInfo:
        """Start a tuning job from a spec (a dict, or the path of a YAML file); its
        ``training`` is a training spec mapping or the path of one."""
        body, files = resolve_tuning_spec(spec)
        arguments: dict[str, Any] = {"spec": body}
        if files is not None:
            arguments["files"] = files
        return TuningJobInfo.model_validate(self._t.call("tuning.create_job", **arguments))

    def tune(self, spec: dict[str, Any] | str | os.PathLike[str], **wait: Any) -> TuningJobInfo:
        """Start a tuning job and wait for it."""
        return self.wait(self.start(spec).id, **wait)

    def resume(self, job_id: str) -> TuningJobInfo:
        """Start an ended (failed, cancelled, timed out) job again; finished trials are kept."""
        return TuningJobInfo.model_validate(self._t.call("tuning.resume_job", job_id=job_id))

    def trials(self, job_id: str) -> builtins.list[TrialInfo]:
        found = self._t.call("tuning.list_trials", job_id=job_id)
        return [TrialInfo.model_validate(t) for t in found]

    def best(self, job_id: str) -> TuningBest:
        """The best trial, or the Pareto front of several objectives."""
        return TuningBest.model_validate(self._t.call("tuning.best", job_id=job_id))

    def register_best(self, job_id: str, name: str, trial: int | None = None) -> ModelVersionInfo:
        """Register the best trial's model as the next version of ``name``."""
        return ModelVersionInfo.model_validate(
            self._t.call("tuning.register_best", job_id=job_id, name=name, trial=trial)
        )

    def report(self, job_id: str, path: str | os.PathLike[str] | None = None) -> str:
        """The HTML report (written to ``path`` when given)."""
        html = str(self._t.call("tuning.report", job_id=job_id)["html"])
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html
