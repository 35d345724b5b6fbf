"""A model version loaded for serving, behind the object an endpoint routes requests to."""

from __future__ import annotations

from shipyard.flavors._base import Prediction, Predictor
from shipyard.serving._features import FeatureBuilder, Features
from shipyard.serving._http import Headers


class ModelSlot:
    """One model version ready to answer: its predictor, input checks and response headers.

    An endpoint sends each request to a slot; today it has one, and variants,
    shadows and canaries become more slots.
    """

    def __init__(self, model_name: str, model_version: str | int, predictor: Predictor) -> None:
        self.model_name = model_name
        self.model_version = str(model_version)
        self.predictor = predictor
        self.signature = predictor.signature
        self.features = FeatureBuilder(predictor.signature, ndarray=predictor.accepts_ndarray)
        self.headers: Headers = [(b"x-shipyard-model-version", self.model_version.encode())]

    @property
    def platform(self) -> str:
        return self.predictor.flavor

    def predict(self, features: Features) -> Prediction:
        return self.predictor.predict(features)
