"""Pipelines in the SDK: define one (a dict, a YAML file, a Python file or ``Pipeline``),
start runs, follow them step by step, cancel and resume them."""

from __future__ import annotations

import os
import runpy
import time
from pathlib import Path
from typing import Any

from shipyard.client._follow import follow_log
from shipyard.client._group import _Group, read_file
from shipyard.client._paging import Listing, fetch_listing
from shipyard.client._training import read_spec
from shipyard.errors import InvalidInput, JobFailed
from shipyard.schemas.jobs import LogChunk
from shipyard.schemas.pipeline_builder import Pipeline
from shipyard.schemas.pipelines import PipelineInfo, PipelineRunInfo

Definition = dict[str, Any] | str | os.PathLike[str] | Pipeline


def _named_files(spec: dict[str, Any], base: Path) -> dict[str, str]:
    """The files a YAML pipeline's steps name (``file:``, an ``entrypoint``'s file, and the
    ``.py`` files beside it), read relative to the YAML file's folder."""
    wanted: set[str] = set()
    code = False
    for step in spec.get("steps") or []:
        config = step.get("with") if isinstance(step, dict) else None
        if not isinstance(config, dict):
            continue
        for key in ("file",):
            if isinstance(config.get(key), str):
                wanted.add(config[key])
        nested = config.get("training")
        training: dict[str, Any] = nested if isinstance(nested, dict) else config
        if isinstance(training.get("entrypoint"), str):
            wanted.add(training["entrypoint"].split(":", 1)[0])
            code = True
    if code:
        wanted |= {p.name for p in base.glob("*.py")}
    return {name: read_file(base / name).decode("utf-8") for name in sorted(wanted)}


def load_definition(definition: Definition) -> tuple[dict[str, Any], dict[str, str]]:
    """The pipeline document and the files to send with it."""
    if isinstance(definition, Pipeline):
        return definition.spec(), definition.files()
    if isinstance(definition, dict):
        return dict(definition), {}
    path = Path(definition)
    if path.suffix == ".py":
        found = [v for v in runpy.run_path(str(path)).values() if isinstance(v, Pipeline)]
        if len(found) != 1:
            raise InvalidInput(f"{path.name} must define exactly one Pipeline", field="file")
        return found[0].spec(), found[0].files()
    spec = read_spec(path)
    return spec, _named_files(spec, path.parent)


class Pipelines(_Group):
    def create(self, definition: Definition, files: dict[str, str] | None = None) -> PipelineInfo:
        """Define a pipeline (or its next version): a dict, a YAML or Python file, or a
        ``Pipeline``; the files its steps name are sent with it."""
        spec, found = load_definition(definition)
        sent = found | dict(files or {})
        return PipelineInfo.model_validate(self._t.call("pipelines.create", spec=spec, files=sent))

    def get(self, name: str) -> PipelineInfo:
        return PipelineInfo.model_validate(self._t.call("pipelines.get", name=name))

    def list(
        self, *, limit: int | None = None, page_token: str | None = None
    ) -> Listing[PipelineInfo]:
        """Pipelines by name: every one, or with ``limit``/``page_token`` one page."""
        return fetch_listing(self._t, "pipelines.list", PipelineInfo, limit, page_token)

    def delete(self, name: str) -> PipelineInfo:
        return PipelineInfo.model_validate(self._t.call("pipelines.delete", name=name))

    def run(self, name: str, parameters: dict[str, Any] | None = None) -> PipelineRunInfo:
        """Start a run now (``parameters`` over the pipeline's defaults)."""
        return PipelineRunInfo.model_validate(
            self._t.call("pipelines.start_run", name=name, parameters=parameters)
        )

    def runs(
        self, name: str, limit: int = 50, page_token: str | None = None
    ) -> Listing[PipelineRunInfo]:
        """One page of a pipeline's runs, newest first (``next_page_token`` continues)."""
        return fetch_listing(
            self._t, "pipelines.list_runs", PipelineRunInfo, limit, page_token, name=name
        )

    def get_run(self, run_id: str) -> PipelineRunInfo:
        return PipelineRunInfo.model_validate(self._t.call("pipelines.get_run", run_id=run_id))

    def logs(self, run_id: str, offset: int = 0) -> LogChunk:
        return LogChunk.model_validate(
            self._t.call("pipelines.read_log", run_id=run_id, offset=offset)
        )

    def cancel(self, run_id: str) -> PipelineRunInfo:
        return PipelineRunInfo.model_validate(self._t.call("pipelines.cancel_run", run_id=run_id))

    def resume(self, run_id: str) -> PipelineRunInfo:
        """Start a failed or cancelled run again from the step that did not finish."""
        return PipelineRunInfo.model_validate(self._t.call("pipelines.resume_run", run_id=run_id))

    def wait(
        self, run_id: str, *, timeout: float | None = None, check: bool = True, **follow: Any
    ) -> PipelineRunInfo:
        """Follow a run to its end; JobFailed unless it succeeded (``check=False``: return)."""
        follow_log(
            lambda offset: self.logs(run_id, offset),
            f"pipeline run {run_id}",
            timeout=timeout,
            **follow,
        )
        info = self.get_run(run_id)
        while not info.done:  # the log ended a moment before the row
            time.sleep(0.05)
            info = self.get_run(run_id)
        if check and info.status != "succeeded":
            raise JobFailed(f"pipeline run {run_id} {info.status}: {info.message}")
        return info
