"""A model version loaded for serving, behind the object an endpoint routes requests to."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import orjson

from shipyard.flavors._base import Prediction, Predictor
from shipyard.serving._batcher import BatchingSettings, MicroBatcher
from shipyard.serving._features import FeatureBuilder, Features
from shipyard.serving._http import Headers
from shipyard.serving._input_stats import InputTally
from shipyard.serving._v2 import model_metadata


class ModelSlot:
    """One model version ready to answer: its predictor, input checks and response headers.

    Variants point at slots; a reload reuses the slot of every model version
    (and runtime) it already holds, so unchanged variants keep their warm model.
    """

    def __init__(
        self,
        model_name: str,
        model_version: str | int,
        predictor: Predictor,
        *,
        model_version_id: int | None = None,
        runtime: str = "native",
    ) -> None:
        self.model_name = model_name
        self.model_version = str(model_version)
        self.model_version_id = model_version_id
        self.runtime = runtime
        self.predictor = predictor
        self.signature = predictor.signature
        self.inputs = InputTally(predictor.signature, predictor.known_categories)
        self.features = FeatureBuilder(
            predictor.signature, ndarray=predictor.accepts_ndarray, tally=self.inputs
        )
        self.headers: Headers = [(b"x-shipyard-model-version", self.model_version.encode())]
        self._batchers: dict[BatchingSettings, MicroBatcher] = {}

    @property
    def platform(self) -> str:
        return self.predictor.flavor

    @cached_property
    def metadata(self) -> bytes:
        """The V2 model metadata document, serialised once."""
        return orjson.dumps(
            model_metadata(self.signature, self.model_name, self.model_version, self.platform)
        )

    def predict(self, features: Features) -> Prediction:
        return self.predictor.predict(features)

    def predict_with(self, features: Features, params: dict[str, Any]) -> Prediction:
        """Predict with those of ``params`` the flavor applies (``Predictor.params``)."""
        applies = self.predictor.params
        used = {name: value for name, value in params.items() if name in applies}
        if used:
            return self.predictor.predict_with(features, used)
        return self.predictor.predict(features)

    def ignored_params(self, params: dict[str, Any]) -> str:
        """The names of ``params`` this model's flavor does not apply, comma-separated."""
        return ", ".join(sorted(name for name in params if name not in self.predictor.params))

    def batcher(self, settings: BatchingSettings) -> MicroBatcher | None:
        """The slot's micro-batcher for these settings (kept across reloads), or None when off."""
        if not settings.enabled or not self.predictor.accepts_ndarray:
            return None
        found = self._batchers.get(settings)
        if found is None:
            found = self._batchers[settings] = MicroBatcher(self.predictor.predict, settings)
        return found
