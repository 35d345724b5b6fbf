"""Training jobs in the SDK: submit a spec (or your own code), follow it, get the run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from shipyard.client._group import read_file
from shipyard.client._jobs import JobGroup
from shipyard.errors import InvalidInput
from shipyard.schemas.job_code import check_path, entry_parts
from shipyard.schemas.jobs import TrainingJobInfo


def read_spec(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A training spec from a YAML file, or an error naming the file."""
    try:
        loaded = yaml.safe_load(read_file(path))
    except yaml.YAMLError as error:
        raise InvalidInput(f"{Path(path).name} is not valid YAML: {error}", field="spec") from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{Path(path).name} must hold a mapping", field="spec")
    return loaded


def code_files(
    spec: dict[str, Any], base: Path, script: str | os.PathLike[str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The spec with its entrypoint, and the files to send: the entry file and the ``.py``
    files beside it, by paths relative to ``base`` (the spec's folder)."""
    if script is not None:
        entry = Path(script)
        function = entry_parts(spec["entrypoint"])[1] if "entrypoint" in spec else "main"
        base = entry.parent if entry.parent != Path() else base
        spec = {**spec, "entrypoint": f"{entry.name}:{function}"}
    entry_file, _ = entry_parts(str(spec["entrypoint"]))
    check_path(entry_file, "entrypoint")
    entry_path = base / entry_file
    if not entry_path.is_file():
        raise InvalidInput(f"{entry_path} does not exist or is not a file", field="entrypoint")
    files = {}
    for path in sorted(entry_path.parent.glob("*.py")):
        relative = path.relative_to(base).as_posix()
        try:
            files[relative] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInput(f"cannot read {relative}: {error}", field="files") from None
    return spec, files


class Training(JobGroup[TrainingJobInfo]):
    prefix, noun, info_type = "training", "training job", TrainingJobInfo

    def submit(
        self,
        spec: dict[str, Any] | str | os.PathLike[str],
        *,
        script: str | os.PathLike[str] | None = None,
    ) -> TrainingJobInfo:
        """Start a training job from a spec (a dict, or the path of a YAML file).

        A spec with an ``entrypoint`` (``train.py:main``, relative to the spec file), or a
        ``script``, runs your own code: its files are sent with the request.
        """
        body = spec if isinstance(spec, dict) else read_spec(spec)
        if script is None and "entrypoint" not in body:
            return TrainingJobInfo.model_validate(self._t.call("training.create_job", spec=body))
        base = Path.cwd() if isinstance(spec, dict) else Path(spec).parent
        return self.submit_code(*code_files(body, base, script))

    def submit_code(self, spec: dict[str, Any], files: dict[str, str]) -> TrainingJobInfo:
        """Start own-code training: ``files`` maps relative paths to Python source."""
        return TrainingJobInfo.model_validate(
            self._t.call("training.run_code", spec=spec, files=files)
        )

    def train(self, spec: dict[str, Any] | str | os.PathLike[str], **wait: Any) -> TrainingJobInfo:
        """Submit a job and wait for it (``script=`` goes to submit)."""
        script = wait.pop("script", None)
        return self.wait(self.submit(spec, script=script).id, **wait)
