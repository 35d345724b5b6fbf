"""The code flavor: a registered Python class with ``load(artifacts)`` and ``predict(table)``.

The role of MLflow's pyfunc, without pickle: the class's source files are part of the
model (pinned by digest, vouched for by a principal allowed ``registry:RegisterCode``)
and are imported from memory under a package named after their digest, never from a
path on disk, so nothing but the registered bytes can run. ``load`` receives the
model's safe-format artifacts (``ModelArtifacts``); ``predict`` receives a DataFrame of
the signature's columns and returns values (regression) or class probabilities.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from shipyard.errors import IntegrityError, PredictionFailed, ShipyardError
from shipyard.flavors._arrays import as_frame, class_array, to_prediction
from shipyard.flavors._base import ModelSignature, Prediction, Predictor
from shipyard.flavors._bundle import Bundle, CodeGrant, Fetch, open_bundle
from shipyard.flavors._safe_files import ModelArtifacts

FLAVOR = "code"
_LOCK = threading.Lock()


class _SourceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds modules under one package root in a fixed set of in-memory source files."""

    def __init__(self, root: str, files: Mapping[str, bytes]) -> None:
        self.root = root
        self.sources: dict[str, tuple[bytes, bool]] = {root: (b"", True)}
        for path, data in files.items():
            parts = path.removesuffix(".py").split("/")
            for depth in range(1, len(parts)):
                self.sources.setdefault(".".join([root, *parts[:depth]]), (b"", True))
            if parts[-1] == "__init__":
                self.sources[".".join([root, *parts[:-1]])] = (data, True)
            else:
                self.sources[".".join([root, *parts])] = (data, False)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.sources:
            return None
        _, package = self.sources[fullname]
        spec = importlib.machinery.ModuleSpec(fullname, self, is_package=package)
        if package:
            spec.submodule_search_locations = []
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        source, _ = self.sources[module.__name__]
        filename = f"<shipyard model code {module.__name__}>"
        exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 (registered code)


def import_entry(bundle: Bundle) -> Any:
    """The class the bundle's entry point names, imported from its registered sources."""
    root = "_shipyard_code_" + bundle.manifest.code_digest.removeprefix("sha256:")[:24]
    module_name, _, attribute = bundle.manifest.entry.partition(":")
    with _LOCK:
        if not any(getattr(f, "root", None) == root for f in sys.meta_path):
            sys.meta_path.insert(0, _SourceFinder(root, bundle.code))
        try:
            module = importlib.import_module(f"{root}.{module_name}")
        except ModuleNotFoundError as error:
            raise IntegrityError(
                f"the model's entry module {module_name!r} is not among its code files "
                f"{sorted(bundle.code)} ({error})"
            ) from None
        except Exception as error:
            raise IntegrityError(
                f"the model's code failed on import: {type(error).__name__}: {error}"
            ) from None
    entry = getattr(module, attribute, None)
    if entry is None:
        raise IntegrityError(f"the model's module {module_name!r} defines no {attribute!r}")
    return entry


def load_code(
    data: bytes, signature: ModelSignature, fetch: Fetch | None, code: CodeGrant | None
) -> CodePredictor:
    """Instantiate the registered class and call its ``load`` with the model's artifacts."""
    bundle = open_bundle(data, fetch, code)
    artifacts = ModelArtifacts(bundle.artifacts)
    cls = import_entry(bundle)
    try:
        model = cls()
        model.load(artifacts)
    except ShipyardError:
        raise
    except Exception as error:
        raise IntegrityError(
            f"the model's load(artifacts) failed: {type(error).__name__}: {error}"
        ) from None
    if not callable(getattr(model, "predict", None)):
        raise IntegrityError(f"{bundle.manifest.entry} has no predict(table) method")
    return CodePredictor(model, signature)


class CodePredictor(Predictor):
    """Calls the registered class's ``predict`` with a DataFrame of the signature's columns."""

    flavor: ClassVar[str] = FLAVOR

    def __init__(self, model: Any, signature: ModelSignature) -> None:
        super().__init__(model, signature)
        self._accepts_ndarray = False
        self._classes = class_array(signature)

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        if isinstance(features, np.ndarray):
            features = pd.DataFrame(features, columns=self.signature.input_names)
        frame = as_frame(features, self.signature)
        try:
            output = np.asarray(self.model.predict(frame))
        except ShipyardError:
            raise
        except Exception as error:
            raise PredictionFailed(
                f"the model's predict failed: {type(error).__name__}: {error}"
            ) from None
        if len(output) != len(frame):
            raise PredictionFailed(f"the model returned {len(output)} rows for {len(frame)}")
        if self._classes is not None and output.ndim == 2:
            if output.shape[1] != len(self._classes):
                raise PredictionFailed(
                    f"the model returned {output.shape[1]} probabilities for "
                    f"{len(self._classes)} classes"
                )
        elif self._classes is not None and output.dtype.kind not in "fc":
            raise PredictionFailed("a classification code model returns class probabilities")
        return to_prediction(output, self._classes)
