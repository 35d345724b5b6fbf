"""The data-plane ASGI app of one endpoint: routing, authorization, prediction, metrics."""

from __future__ import annotations

import asyncio
import logging
from time import perf_counter
from typing import Any

import numpy as np
import orjson

from shipyard.errors import InvalidInput, NotFound, ShipyardError
from shipyard.flavors._base import Prediction, Predictor
from shipyard.serving._auth import (
    DESCRIBE,
    INVOKE,
    READ_METRICS,
    RequestAuthorizer,
    endpoint_resource,
)
from shipyard.serving._features import Features
from shipyard.serving._formats import parse_invocation
from shipyard.serving._http import (
    ClientDisconnected,
    MethodNotAllowed,
    PredictionFailed,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    error_body,
    error_response,
    json_response,
)
from shipyard.serving._metrics import ServingMetrics
from shipyard.serving._router import Route, Router
from shipyard.serving._settings import ServingSettings
from shipyard.serving._slot import ModelSlot
from shipyard.serving._v2 import infer_response, model_metadata, parse_infer

logger = logging.getLogger(__name__)

_GET = frozenset({"GET"})
_POST = frozenset({"POST"})
_UNMATCHED = "unmatched"


class ServingApp:
    """ASGI app serving one endpoint; every route is authorized unless declared public."""

    def __init__(
        self,
        endpoint_name: str,
        slot: ModelSlot,
        authorizer: RequestAuthorizer,
        settings: ServingSettings | None = None,
    ) -> None:
        self.endpoint_name = endpoint_name
        self.resource = endpoint_resource(endpoint_name)
        self.slot = slot
        self.authorizer = authorizer
        self.settings = settings or ServingSettings()
        self.metrics = ServingMetrics(endpoint_name)
        self._router = Router()
        self._metadata = orjson.dumps(
            model_metadata(slot.signature, slot.model_name, slot.model_version, slot.platform)
        )
        for route in self._builtin_routes():
            self._router.add(route)

    @property
    def routes(self) -> list[Route]:
        """Every route the app answers, public or not."""
        return list(self._router.routes)

    def add_route(self, route: Route) -> None:
        """Serve one more route, under the same routing, authorization and metrics."""
        self._router.add(route)

    def _builtin_routes(self) -> list[Route]:
        v2 = "/v2/models/{name}"
        versioned = "/v2/models/{name}/versions/{version}"
        return [
            Route("/ping", _GET, self._ping, public=True),
            Route("/v2/health/live", _GET, self._live, public=True),
            Route("/v2/health/ready", _GET, self._ready, public=True),
            Route("/invocations", _POST, self._invocations, INVOKE),
            Route(f"{v2}/infer", _POST, self._v2_infer, INVOKE),
            Route(f"{versioned}/infer", _POST, self._v2_infer, INVOKE),
            Route(v2, _GET, self._v2_metadata, DESCRIBE),
            Route(versioned, _GET, self._v2_metadata, DESCRIBE),
            Route(f"{v2}/ready", _GET, self._v2_model_ready, DESCRIBE),
            Route(f"{versioned}/ready", _GET, self._v2_model_ready, DESCRIBE),
            Route("/metrics", _GET, self._metrics, READ_METRICS),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            await _non_http(kind, receive, send)
            return
        started = perf_counter()
        slot = self.slot
        found = self._router.match(scope["path"])
        route_name = found[0].path if found is not None else _UNMATCHED
        request = Request(scope, receive, found[1] if found is not None else {})
        try:
            if found is None:
                raise NotFound("no such path", field="path")
            route = found[0]
            if route.action is not None:
                request.principal = self.authorizer.authorize(
                    request.authorization, route.action, self.resource
                )
            if scope["method"] not in route.methods:
                raise MethodNotAllowed(scope["method"], route.methods)
            response = await route.handler(request)
        except ClientDisconnected:
            return
        except ShipyardError as exc:
            response, code = error_response(exc)
            self.metrics.error(slot.model_name, slot.model_version, route_name, code)
        except Exception:
            logger.exception("unexpected error on %s %s", scope["method"], route_name)
            response = json_response(error_body("internal_error", "internal server error"), 500)
            self.metrics.error(slot.model_name, slot.model_version, route_name, "internal_error")
        await response.send(send, slot.headers)
        self.metrics.observe(
            slot.model_name,
            slot.model_version,
            route_name,
            response.status,
            perf_counter() - started,
        )

    def _predict_now(self, slot: ModelSlot, features: Features) -> Prediction:
        """Predict on the event loop; cheapest for the small batches most requests carry."""
        prediction = self._guarded_predict(slot, features)
        self.metrics.rows(slot.model_name, slot.model_version, len(features))
        return prediction

    async def _predict_in_thread(self, slot: ModelSlot, features: Features) -> Prediction:
        """Predict a big batch in a worker thread so the event loop keeps answering."""
        loop = asyncio.get_running_loop()
        prediction = await loop.run_in_executor(None, self._guarded_predict, slot, features)
        self.metrics.rows(slot.model_name, slot.model_version, len(features))
        return prediction

    @staticmethod
    def _guarded_predict(slot: ModelSlot, features: Features) -> Prediction:
        try:
            return slot.predict(features)
        except InvalidInput:
            raise
        except Exception as exc:
            logger.exception("model %s v%s failed to predict", slot.model_name, slot.model_version)
            detail = f"{type(exc).__name__}: {exc}"
            raise PredictionFailed(f"the model failed on this input ({detail[:300]})") from exc

    async def _invocations(self, request: Request) -> Response:
        body = await request.body(self.settings.max_body_bytes)
        slot = self.slot
        features = parse_invocation(body, request.content_type, slot.features)
        if len(features) < self.settings.offload_rows:
            prediction = self._predict_now(slot, features)
        else:
            prediction = await self._predict_in_thread(slot, features)
        answer: dict[str, Any] = {"predictions": _jsonable(prediction.predictions)}
        if prediction.probabilities is not None:
            answer["probabilities"] = _jsonable(prediction.probabilities)
        return json_response(answer)

    def _named_slot(self, request: Request) -> ModelSlot:
        slot = self.slot
        if request.params["name"] not in (slot.model_name, self.endpoint_name):
            raise NotFound(f"this endpoint serves model {slot.model_name!r}", field="name")
        version = request.params.get("version")
        if version is not None and version != slot.model_version:
            raise NotFound(f"this endpoint serves version {slot.model_version}", field="version")
        return slot

    async def _v2_infer(self, request: Request) -> Response:
        slot = self._named_slot(request)
        body = await request.body(self.settings.max_body_bytes)
        infer = parse_infer(body, slot.features)
        if len(infer.features) < self.settings.offload_rows:
            prediction = self._predict_now(slot, infer.features)
        else:
            prediction = await self._predict_in_thread(slot, infer.features)
        return json_response(infer_response(infer, prediction, slot.model_name, slot.model_version))

    async def _v2_metadata(self, request: Request) -> Response:
        self._named_slot(request)
        return Response(200, self._metadata)

    async def _v2_model_ready(self, request: Request) -> Response:
        slot = self._named_slot(request)
        return json_response({"name": slot.model_name, "ready": True})

    async def _metrics(self, request: Request) -> Response:
        body, content_type = self.metrics.render()
        return Response(200, body, content_type.encode())

    async def _ping(self, request: Request) -> Response:
        return Response(200, b"\n", b"text/plain; charset=utf-8")

    async def _live(self, request: Request) -> Response:
        return Response(200, b'{"live":true}')

    async def _ready(self, request: Request) -> Response:
        return Response(200, b'{"ready":true}')


def _jsonable(array: np.ndarray) -> object:
    """Small arrays serialise faster as lists; big ones faster as numpy buffers."""
    return array.tolist() if array.size <= 64 else array


async def _non_http(kind: str, receive: Receive, send: Send) -> None:
    if kind == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif kind == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1008})


def create_serving_app(
    endpoint_name: str,
    model_name: str,
    model_version: str | int,
    predictor: Predictor,
    authorizer: RequestAuthorizer,
    settings: ServingSettings | None = None,
) -> ServingApp:
    """Build the ASGI app that serves one model version on one endpoint."""
    return ServingApp(
        endpoint_name, ModelSlot(model_name, model_version, predictor), authorizer, settings
    )
