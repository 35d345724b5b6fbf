"""The data-plane ASGI app of one endpoint: routing, authorization, variants, predictions."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from random import random
from time import perf_counter
from typing import Any

import numpy as np

from shipyard.errors import (
    AccessDenied,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    Overloaded,
    ShipyardError,
    Unauthenticated,
)
from shipyard.flavors._base import Prediction, Predictor
from shipyard.security import Transport
from shipyard.serving._audit import AuditBuffer, AuditRecord
from shipyard.serving._auth import (
    DESCRIBE,
    INVOKE,
    PUT_FEEDBACK,
    READ_METRICS,
    CertificateAuthorizer,
    RequestAuthorizer,
    RequestLimiting,
    endpoint_resource,
    presented_key_id,
)
from shipyard.serving._capture import CaptureBuffer
from shipyard.serving._config import EndpointConfig, Variant
from shipyard.serving._control import ControlLink, ControlLoop
from shipyard.serving._enrich import (
    EnrichedRequest,
    RequestColumns,
    RequestEnricher,
    check_columns,
    enrich,
)
from shipyard.serving._failures import model_failure, raise_enriched
from shipyard.serving._features import Features
from shipyard.serving._feedback import FeedbackBuffer, parse_feedback
from shipyard.serving._formats import Params, invocation_columns, read_invocation
from shipyard.serving._http import (
    INTERNAL_ERROR,
    ClientDisconnected,
    Headers,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    error_response,
    internal_error_response,
    json_response,
    non_http,
)
from shipyard.serving._metrics import ServingMetrics
from shipyard.serving._router import Route, Router
from shipyard.serving._runtime_metrics import runtime_metrics
from shipyard.serving._settings import ServingSettings
from shipyard.serving._shadow import ShadowCopy, ShadowRunner
from shipyard.serving._slot import ModelSlot
from shipyard.serving._stats import VariantTotals
from shipyard.serving._v2 import InferRequest, infer_response, parse_infer, parse_infer_columns
from shipyard.tls import has_client_certificate, scope_principal, scope_serial

logger = logging.getLogger(__name__)

_GET = frozenset({"GET"})
_POST = frozenset({"POST"})
_UNMATCHED = "unmatched"
_V2 = "/v2/models/{name}"
_V2_VERSIONED = "/v2/models/{name}/versions/{version}"
_OIP_PREFIX = "/v2/"
IGNORED_PARAMS_HEADER = b"x-shipyard-ignored-params"
_NO_HEADERS: Headers = []
PREDICT_ROUTES = frozenset({"/invocations", f"{_V2}/infer", f"{_V2_VERSIONED}/infer"})


class ServingApp:
    """ASGI app serving one endpoint; every route is authorized unless declared public.

    It answers from ``config``, an immutable snapshot of the endpoint's variants
    that a reload replaces whole. With a ``link`` to the control plane it also
    reloads live, reports per-variant stats, writes captures, takes feedback and
    writes denials and feedback writes to the audit trail.

    Errors are the one error document of ``shipyard.errors``, except on the Open
    Inference Protocol routes (``/v2/...``), which answer ``{"error": "<message>"}``
    as that spec says. A refused caller learns nothing about the variants served.
    """

    def __init__(
        self,
        endpoint_name: str,
        config: EndpointConfig | ModelSlot,
        authorizer: RequestAuthorizer,
        settings: ServingSettings | None = None,
        link: ControlLink | None = None,
        worker: str | None = None,
        limiter: RequestLimiting | None = None,
    ) -> None:
        self.endpoint_name = endpoint_name
        self.limiter = limiter
        self.resource = endpoint_resource(endpoint_name)
        self.config = (
            config if isinstance(config, EndpointConfig) else EndpointConfig.single(config)
        )
        self.authorizer = authorizer
        self.certificates = authorizer if isinstance(authorizer, CertificateAuthorizer) else None
        self.settings = settings or ServingSettings()
        self.metrics = ServingMetrics(endpoint_name)
        self.captures = CaptureBuffer(self.settings.capture_buffer)
        self.feedback = FeedbackBuffer(self.settings.feedback_buffer)
        self.shadows = ShadowRunner(self.settings.shadow_queue, self.captures)
        self.audit = AuditBuffer(self.settings.audit_buffer, self.resource)
        self.control = ControlLoop(self, link, worker) if link is not None else None
        self.rejected = 0
        self.feature_rows = 0
        self.absent_entities = 0
        self._inflight = 0
        self._prefix = os.urandom(6).hex().encode() + b"-"
        self._ids = itertools.count(1)
        self._router = Router()
        for route in self._builtin_routes():
            self._router.add(route)
        if link is not None:
            self._router.add(Route("/feedback", _POST, self._feedback, PUT_FEEDBACK))
        self.metrics.add_collector(lambda: runtime_metrics(self))

    @property
    def slot(self) -> ModelSlot:
        """The slot of the production variant with the most traffic."""
        return self.config.default.slot

    @property
    def routes(self) -> list[Route]:
        """Every route the app answers, public or not."""
        return list(self._router.routes)

    def add_route(self, route: Route) -> None:
        """Serve one more route, under the same routing, authorization and metrics."""
        self._router.add(route)

    def install(self, config: EndpointConfig) -> None:
        """Serve ``config`` from now on; requests in flight finish on the snapshot they took."""
        self.config = config

    def variant_totals(self) -> dict[str, VariantTotals]:
        """Cumulative counts per variant: live prediction requests plus shadow copies."""
        totals = self.metrics.variant_totals(PREDICT_ROUTES)
        for name, shadow in list(self.shadows.totals.items()):
            totals.setdefault(name, VariantTotals()).add(shadow)
        return totals

    def start(self) -> None:
        """Start the background work: shadow runner, and reload/report loop with a link."""
        self.shadows.start()
        if self.control is not None:
            self.control.start()
        if self.limiter is not None:
            self.limiter.start()

    def stop(self) -> None:
        """Finish queued shadow copies, then write stats, feedback and captures still held."""
        self.shadows.stop()
        if self.control is not None:
            self.control.stop()
        if self.limiter is not None:
            self.limiter.stop()

    def _builtin_routes(self) -> list[Route]:
        return [
            Route("/ping", _GET, self._ping, public=True),
            Route("/v2/health/live", _GET, self._live, public=True),
            Route("/v2/health/ready", _GET, self._ready, public=True),
            Route("/invocations", _POST, self._invocations, INVOKE),
            Route(f"{_V2}/infer", _POST, self._v2_infer, INVOKE),
            Route(f"{_V2_VERSIONED}/infer", _POST, self._v2_infer, INVOKE),
            Route(_V2, _GET, self._v2_metadata, DESCRIBE),
            Route(_V2_VERSIONED, _GET, self._v2_metadata, DESCRIBE),
            Route(f"{_V2}/ready", _GET, self._v2_model_ready, DESCRIBE),
            Route(f"{_V2_VERSIONED}/ready", _GET, self._v2_model_ready, DESCRIBE),
            Route("/metrics", _GET, self._metrics, READ_METRICS),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            await self._non_http(kind, receive, send)
            return
        started = perf_counter()
        config = self.config
        found = self._router.match(scope["path"])
        route_name = found[0].path if found is not None else _UNMATCHED
        request = Request(scope, receive, found[1] if found is not None else {})
        request.config = config
        extra: Headers | None = None
        try:
            if found is None:
                raise NotFound("no such path", field="path")
            route = found[0]
            if route.action is not None:
                request.principal = await self._principal(request, scope, route.action)
            if scope["method"] not in route.methods:
                allowed = ", ".join(sorted(route.methods))
                raise MethodNotAllowed(
                    f"{scope['method']} is not allowed here; use {allowed}", allowed=route.methods
                )
            response = await route.handler(request)
        except ClientDisconnected:
            return
        except ShipyardError as exc:
            response, code = error_response(exc, oip=scope["path"].startswith(_OIP_PREFIX))
            self._count_error(request.variant, config, route_name, code)
            if isinstance(exc, (Unauthenticated, AccessDenied)) and found is not None:
                extra = _NO_HEADERS
                self._audit_denial(exc, request, found[0])
        except Exception:
            logger.exception("unexpected error on %s %s", scope["method"], route_name)
            response = internal_error_response(oip=scope["path"].startswith(_OIP_PREFIX))
            self._count_error(request.variant, config, route_name, INTERNAL_ERROR)
        variant: Variant | None = request.variant
        chosen = variant or config.default
        request_id = request.request_id or self._new_request_id()
        await response.send(send, chosen.headers if extra is None else extra, request_id)
        slot = chosen.slot
        self.metrics.observe(
            chosen.name if variant else "",
            slot.model_name,
            slot.model_version,
            route_name,
            response.status,
            perf_counter() - started,
        )
        if response.after is not None:
            self._follow_up(response.after, request, chosen, config, request_id.decode("latin-1"))

    def _new_request_id(self) -> bytes:
        return self._prefix + b"%x" % next(self._ids)

    def _audit_denial(
        self, exc: Unauthenticated | AccessDenied, request: Request, route: Route
    ) -> None:
        """Queue a 401/403 for the audit trail (written by the control thread, if linked)."""
        if self.control is None:
            return
        request.request_id = request.request_id or self._new_request_id()
        scope = request.scope
        client = scope.get("client")
        principal = exc.principal if isinstance(exc, AccessDenied) else None
        self.audit.offer(
            AuditRecord(
                principal or "anonymous",
                route.action or "",
                self.resource,
                "denied",
                request.request_id.decode("latin-1"),
                {
                    "status": 401 if isinstance(exc, Unauthenticated) else 403,
                    "reason": exc.message,
                    "method": scope["method"],
                    "route": route.path,
                    "key_id": presented_key_id(request.authorization),
                    "client": client[0] if client else None,
                    "plane": "data",
                },
            )
        )

    def _count_error(
        self, variant: Variant | None, config: EndpointConfig, route: str, code: str
    ) -> None:
        slot = (variant or config.default).slot
        label = variant.name if variant else ""
        self.metrics.error(label, slot.model_name, slot.model_version, route, code)

    def _follow_up(
        self,
        after: tuple[Features, Prediction, bytes, str, EnrichedRequest | None],
        request: Request,
        variant: Variant,
        config: EndpointConfig,
        request_id: str,
    ) -> None:
        """After the response: capture a sample and offer shadow copies; never blocks."""
        features, answer, body, protocol, enriched = after
        mode = None
        rate = config.capture_rate
        if rate and (rate >= 1.0 or random() < rate):
            mode = config.capture.mode
            self.captures.offer(request_id, variant.name, variant.slot, features, answer, mode)
        if variant.role != "production":
            return
        for shadow in config.shadows:
            if shadow.shadow_percent >= 100 or random() * 100 < shadow.shadow_percent:
                self.shadows.offer(
                    ShadowCopy(
                        shadow,
                        variant,
                        features,
                        answer,
                        body,
                        request.content_type,
                        protocol,
                        request_id,
                        mode,
                        enriched,
                    )
                )

    def _admit(self) -> None:
        if self._inflight >= self.settings.max_inflight:
            self.rejected += 1
            raise Overloaded(
                f"this worker already holds {self.settings.max_inflight} requests; retry shortly",
                retry_after=self.settings.retry_after_seconds,
            )
        self._inflight += 1

    def _predict_now(self, slot: ModelSlot, features: Features) -> Prediction:
        """Predict on the event loop: cheapest for the small inputs most requests carry."""
        try:
            prediction = slot.predict(features)
        except InvalidInput:
            raise
        except Exception as exc:
            raise model_failure(slot, exc) from exc
        self.metrics.rows(slot.model_name, slot.model_version, len(features))
        return prediction

    async def _predict_later(
        self, variant: Variant, features: Features, params: Params | None = None
    ) -> Prediction:
        """Predict with the variant's micro-batcher, or in a thread for big inputs and for
        requests with inference parameters (never micro-batched: they are per request)."""
        slot = variant.slot
        rows = len(features)
        batcher = variant.batcher
        loop = asyncio.get_running_loop()
        try:
            if params is not None:
                prediction = await loop.run_in_executor(None, slot.predict_with, features, params)
            elif batcher is not None and rows < batcher.max_rows and type(features) is np.ndarray:
                prediction = await batcher.predict(features)
            else:
                prediction = await loop.run_in_executor(None, slot.predict, features)
        except InvalidInput:
            raise
        except Exception as exc:
            raise model_failure(slot, exc) from exc
        self.metrics.rows(slot.model_name, slot.model_version, rows)
        return prediction

    async def _invocations(self, request: Request) -> Response:
        self._admit()
        enriched: EnrichedRequest | None = None
        try:
            variant = request.variant = request.config.choose(request.pinned)
            body = await request.body(self.settings.max_body_bytes)
            enricher = request.config.enricher
            if enricher is not None:
                columns, params = invocation_columns(body, request.content_type)
                enriched, features, prediction = await self._predict_enriched(
                    variant, enricher, columns, params
                )
            else:
                features, params = read_invocation(
                    body, request.content_type, variant.slot.features
                )
                if params is not None:
                    prediction = await self._predict_later(variant, features, params)
                elif variant.batcher is None and len(features) < self.settings.offload_rows:
                    prediction = self._predict_now(variant.slot, features)
                else:
                    prediction = await self._predict_later(variant, features)
        finally:
            self._inflight -= 1
        answer: dict[str, Any] = {"predictions": _jsonable(prediction.predictions)}
        if prediction.probabilities is not None:
            answer["probabilities"] = _jsonable(prediction.probabilities)
        response = json_response(answer)
        if params is not None:
            ignored = variant.slot.ignored_params(params)
            if ignored:
                response.headers.append((IGNORED_PARAMS_HEADER, ignored.encode()))
        if request.config.follow_up:
            response.after = (features, prediction, body, "invocations", enriched)
        return response

    async def _predict_enriched(
        self,
        variant: Variant,
        enricher: RequestEnricher,
        columns: RequestColumns,
        params: Params | None = None,
    ) -> tuple[EnrichedRequest, Features, Prediction]:
        """Look the request's entities up in the online store off the loop, then predict.

        Small inputs without a micro-batcher, and any with ``params``, are enriched and
        predicted in one worker thread; with a batcher the batcher predicts, after the
        lookup's thread is done.
        """
        slot = variant.slot
        check_columns(columns, enricher, slot)
        loop = asyncio.get_running_loop()
        batcher = variant.batcher
        if batcher is None or columns.rows >= batcher.max_rows or params is not None:
            enriched, features, prediction = await loop.run_in_executor(
                None, self._enrich_and_predict, slot, enricher, columns, params
            )
        else:
            enriched = await loop.run_in_executor(None, enrich, enricher, columns)
            features = enriched.features_for(slot)
            try:
                if type(features) is np.ndarray:
                    prediction = await batcher.predict(features)
                else:
                    prediction = await loop.run_in_executor(None, slot.predict, features)
            except Exception as exc:
                raise_enriched(enriched, slot, exc)
        self._count_lookup(enriched)
        self.metrics.rows(slot.model_name, slot.model_version, enriched.rows)
        return enriched, features, prediction

    @staticmethod
    def _enrich_and_predict(
        slot: ModelSlot, enricher: RequestEnricher, columns: RequestColumns, params: Params | None
    ) -> tuple[EnrichedRequest, Features, Prediction]:
        """In a worker thread: one online-store read, the variant's input, its prediction."""
        enriched = enrich(enricher, columns)
        features = enriched.features_for(slot)
        try:
            if params is None:
                prediction = slot.predict(features)
            else:
                prediction = slot.predict_with(features, params)
        except Exception as exc:
            raise_enriched(enriched, slot, exc)
        return enriched, features, prediction

    def _count_lookup(self, enriched: EnrichedRequest) -> None:
        self.feature_rows += enriched.rows
        self.absent_entities += sum(1 for n in enriched.lookup.nulls if n.absent)

    def _named_variant(self, request: Request, *, weighted: bool) -> Variant:
        """The variant a V2 path names: pinned by header, by variant name, version, or weight."""
        config: EndpointConfig = request.config
        name, version = request.params["name"], request.params.get("version")
        if request.pinned is not None:
            variant = config.choose(request.pinned)
        elif name in config.by_name:
            variant = config.by_name[name]
        elif version is not None:
            variant = next(
                (v for v in config.variants if v.slot.model_version == version),
                config.default,
            )
        else:
            variant = config.choose(None) if weighted else config.default
        request.variant = variant
        slot = variant.slot
        if name not in (slot.model_name, self.endpoint_name, variant.name):
            raise NotFound(f"this endpoint serves model {slot.model_name!r}", field="name")
        if version is not None and version != slot.model_version:
            raise NotFound(f"this endpoint serves version {slot.model_version}", field="version")
        return variant

    async def _v2_infer(self, request: Request) -> Response:
        self._admit()
        enriched: EnrichedRequest | None = None
        try:
            variant = self._named_variant(request, weighted=True)
            slot = variant.slot
            body = await request.body(self.settings.max_body_bytes)
            enricher = request.config.enricher
            if enricher is not None:
                columns, request_id, outputs = parse_infer_columns(body)
                enriched, features, prediction = await self._predict_enriched(
                    variant, enricher, columns
                )
                infer = InferRequest(request_id, features, outputs)
            else:
                infer = parse_infer(body, slot.features)
                if variant.batcher is None and len(infer.features) < self.settings.offload_rows:
                    prediction = self._predict_now(slot, infer.features)
                else:
                    prediction = await self._predict_later(variant, infer.features)
        finally:
            self._inflight -= 1
        response = json_response(
            infer_response(infer, prediction, slot.model_name, slot.model_version)
        )
        if request.config.follow_up:
            response.after = (infer.features, prediction, body, "v2", enriched)
        return response

    async def _v2_metadata(self, request: Request) -> Response:
        return Response(200, self._named_variant(request, weighted=False).slot.metadata)

    async def _v2_model_ready(self, request: Request) -> Response:
        slot = self._named_variant(request, weighted=False).slot
        return json_response({"name": slot.model_name, "ready": True})

    async def _feedback(self, request: Request) -> Response:
        pairs = parse_feedback(await request.body(self.settings.max_body_bytes))
        if not self.feedback.has_room(len(pairs)):
            raise Overloaded(
                "feedback arrives faster than it is written; retry shortly",
                retry_after=self.settings.retry_after_seconds,
            )
        self.feedback.extend(pairs)
        request.request_id = request.request_id or self._new_request_id()
        self.audit.offer(
            AuditRecord(
                request.principal,
                PUT_FEEDBACK,
                self.resource,
                "succeeded",
                request.request_id.decode("latin-1"),
                {"records": len(pairs), "plane": "data"},
            )
        )
        return json_response({"endpoint": self.endpoint_name, "accepted": len(pairs)}, 202)

    async def _metrics(self, request: Request) -> Response:
        body, content_type = self.metrics.render()
        return Response(200, body, content_type.encode())

    async def _ping(self, request: Request) -> Response:
        return Response(200, b"\n", b"text/plain; charset=utf-8")

    async def _live(self, request: Request) -> Response:
        return Response(200, b'{"live":true}')

    async def _ready(self, request: Request) -> Response:
        return Response(200, b'{"ready":true}')

    async def _principal(self, request: Request, scope: Scope, action: str) -> str:
        """Who calls, by client certificate or key (from memory; a key not seen yet is
        looked up off the event loop), allowed ``action`` and within its request limits."""
        client = scope.get("client")
        transport = Transport(client[0] if client else None, scope.get("scheme") == "https")
        if (
            request.authorization is None
            and self.certificates is not None
            and has_client_certificate(scope)
        ):
            principal = self.certificates.authorize_certificate(
                scope_principal(scope), action, self.resource, scope_serial(scope), transport
            )
        else:
            authorization = request.authorization
            found = self.authorizer.authorize(authorization, action, self.resource, transport)
            if found is None:
                found = await asyncio.get_running_loop().run_in_executor(
                    None,
                    self.authorizer.resolve,
                    authorization,
                    action,
                    self.resource,
                    transport,
                )
            principal = found
        if self.limiter is not None:
            self.limiter.check(principal)
        return principal

    async def _non_http(self, kind: str, receive: Receive, send: Send) -> None:
        await non_http(kind, receive, send, self.start, self.stop, self.endpoint_name)


def _jsonable(array: np.ndarray) -> object:
    """Small arrays serialise faster as lists; big ones faster as numpy buffers."""
    return array.tolist() if array.size <= 64 else array


def create_serving_app(
    endpoint_name: str,
    model_name: str,
    model_version: str | int,
    predictor: Predictor,
    authorizer: RequestAuthorizer,
    settings: ServingSettings | None = None,
) -> ServingApp:
    """Build the ASGI app that serves one model version on one endpoint (variant "primary")."""
    return ServingApp(
        endpoint_name, ModelSlot(model_name, model_version, predictor), authorizer, settings
    )
