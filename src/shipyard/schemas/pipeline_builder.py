"""Pipelines in Python: own-code steps are functions marked with ``@step``, the built-in
kinds added by name; ``spec()`` and ``files()`` are what ``create_pipeline`` takes.

    pipeline = Pipeline("retrain", parameters={"max_iter": 200})
    pipeline.add("ingest", "ingest", dataset="bc", file="bc.csv")

    @pipeline.step(dataset="${steps.ingest.dataset}", experiment="retrain")
    def fit(context): ...

    pipeline.add("register", "register", model="bc", run="${steps.fit.run}")

A function runs as own-code training does (a job of its own, with a ``TrainingContext``),
never in the process that defines the pipeline; its file is sent with the pipeline.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__shipyard_step__"


def step(**config: Any) -> Callable[[F], F]:
    """Mark a function as an own-code step (``Pipeline.collect`` adds marked functions)."""

    def mark(fn: F) -> F:
        setattr(fn, _MARK, dict(config))
        return fn

    return mark


class Pipeline:
    """A pipeline built in Python; ``spec()`` is the same document a YAML file holds."""

    def __init__(
        self,
        name: str,
        *,
        parameters: dict[str, Any] | None = None,
        description: str = "",
        schedule: str | None = None,
        triggers: list[dict[str, Any]] | None = None,
    ) -> None:
        self.name, self.description, self.schedule = name, description, schedule
        self.parameters = dict(parameters or {})
        self.triggers = list(triggers or [])
        self._steps: list[dict[str, Any]] = []
        self._files: dict[str, str] = {}

    def add(
        self,
        name: str,
        kind: str,
        *,
        after: list[str] | None = None,
        retries: int = 0,
        cache: bool = True,
        **config: Any,
    ) -> Pipeline:
        """Add a step of a built-in kind with its settings."""
        entry: dict[str, Any] = {"name": name, "kind": kind, "with": config}
        if after:
            entry["after"] = list(after)
        if retries:
            entry["retries"] = retries
        if not cache:
            entry["cache"] = False
        self._steps.append(entry)
        return self

    def step(
        self,
        *,
        name: str | None = None,
        after: list[str] | None = None,
        retries: int = 0,
        **config: Any,
    ) -> Callable[[F], F]:
        """Decorate a function ``fn(context)`` to be an own-code step (kind ``code``)."""

        def add(fn: F) -> F:
            self.add_function(fn, name=name, after=after, retries=retries, **config)
            return fn

        return add

    def add_function(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        after: list[str] | None = None,
        retries: int = 0,
        **config: Any,
    ) -> Pipeline:
        source = inspect.getsourcefile(fn)
        if source is None:
            raise ValueError(f"{fn.__name__} has no source file to send")
        path = Path(source)
        self._files[path.name] = path.read_text()
        entry = {"entrypoint": f"{path.name}:{fn.__name__}", **config}
        return self.add(name or fn.__name__, "code", after=after, retries=retries, **entry)

    def collect(self, namespace: dict[str, Any]) -> Pipeline:
        """Add every function in ``namespace`` marked with ``@step``, in definition order."""
        for value in namespace.values():
            config = getattr(value, _MARK, None)
            if callable(value) and isinstance(config, dict):
                self.add_function(value, **config)
        return self

    def add_file(self, path: str | Path, name: str | None = None) -> Pipeline:
        """Send a code or data file with the pipeline (``ingest`` steps read data files)."""
        path = Path(path)
        self._files[name or path.name] = path.read_text()
        return self

    def spec(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "steps": list(self._steps)}
        if self.description:
            found["description"] = self.description
        if self.parameters:
            found["parameters"] = dict(self.parameters)
        if self.schedule:
            found["schedule"] = self.schedule
        if self.triggers:
            found["triggers"] = list(self.triggers)
        return found

    def files(self) -> dict[str, str]:
        return dict(self._files)
