"""``shipyard.Client``: one interface, in-process or over HTTP."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from shipyard.client._transport import ClientCert, HttpTransport, Transport

if TYPE_CHECKING:
    from shipyard.client._alarms import Alarms
    from shipyard.client._automl import AutoML
    from shipyard.client._batch import BatchTransforms
    from shipyard.client._contracts import Contracts
    from shipyard.client._cost import Cost
    from shipyard.client._datasets import Datasets
    from shipyard.client._deployments import Deployments
    from shipyard.client._edge import Edge
    from shipyard.client._encryption import Encryption
    from shipyard.client._endpoints import Endpoints
    from shipyard.client._evaluations import Evaluations
    from shipyard.client._features import Features
    from shipyard.client._iam import Iam
    from shipyard.client._local import LocalTransport
    from shipyard.client._log_model import LoggedModel
    from shipyard.client._models import Models
    from shipyard.client._monitors import Monitors
    from shipyard.client._pipelines import Pipelines
    from shipyard.client._retention import Retention
    from shipyard.client._streams import Streams
    from shipyard.client._tracking import ActiveRun, Tracking
    from shipyard.client._training import Training
    from shipyard.client._transforms import Transforms
    from shipyard.client._tuning import Tuning
    from shipyard.config import Settings


class Client:
    """The Shipyard SDK.

    ``Client()`` works in this process on the configured stores, as the local
    admin; ``Client(url, api_key=...)`` talks to a Shipyard server. Over https it
    trusts the system's CAs, or ``ca_bundle``; ``client_cert=(cert, key)`` authenticates
    by mutual TLS instead of a key (a service principal's certificate). Each group
    (``client.datasets``, ``client.tracking`` ...) loads its module on first use.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        api_key: str | None = None,
        settings: Settings | None = None,
        transport: Transport | None = None,
        ca_bundle: str | Path | None = None,
        client_cert: ClientCert | None = None,
    ) -> None:
        if transport is None and url:
            transport = HttpTransport(
                url, api_key or "", ca_bundle=ca_bundle, client_cert=client_cert
            )
        elif transport is None:
            transport = self._local(settings)
        self.transport = transport

    @cached_property
    def datasets(self) -> Datasets:
        from shipyard.client._datasets import Datasets

        return Datasets(self.transport)

    @cached_property
    def contracts(self) -> Contracts:
        from shipyard.client._contracts import Contracts

        return Contracts(self.transport)

    @cached_property
    def tracking(self) -> Tracking:
        from shipyard.client._tracking import Tracking

        return Tracking(self.transport)

    @cached_property
    def training(self) -> Training:
        from shipyard.client._training import Training

        return Training(self.transport)

    @cached_property
    def tuning(self) -> Tuning:
        from shipyard.client._tuning import Tuning

        return Tuning(self.transport)

    @cached_property
    def models(self) -> Models:
        from shipyard.client._models import Models

        return Models(self.transport)

    @cached_property
    def endpoints(self) -> Endpoints:
        from shipyard.client._endpoints import Endpoints

        return Endpoints(self.transport)

    @cached_property
    def deployments(self) -> Deployments:
        from shipyard.client._deployments import Deployments

        return Deployments(self.transport)

    @cached_property
    def encryption(self) -> Encryption:
        from shipyard.client._encryption import Encryption

        return Encryption(self.transport)

    @cached_property
    def iam(self) -> Iam:
        from shipyard.client._iam import Iam

        return Iam(self.transport)

    @cached_property
    def batch(self) -> BatchTransforms:
        from shipyard.client._batch import BatchTransforms

        return BatchTransforms(self.transport)

    @cached_property
    def automl(self) -> AutoML:
        from shipyard.client._automl import AutoML

        return AutoML(self.transport)

    @cached_property
    def edge(self) -> Edge:
        from shipyard.client._edge import Edge

        return Edge(self.transport)

    @cached_property
    def evaluations(self) -> Evaluations:
        from shipyard.client._evaluations import Evaluations

        return Evaluations(self.transport)

    @cached_property
    def retention(self) -> Retention:
        from shipyard.client._retention import Retention

        return Retention(self.transport)

    @cached_property
    def alarms(self) -> Alarms:
        from shipyard.client._alarms import Alarms

        return Alarms(self.transport)

    @cached_property
    def monitors(self) -> Monitors:
        from shipyard.client._monitors import Monitors

        return Monitors(self.transport)

    @cached_property
    def features(self) -> Features:
        from shipyard.client._features import Features

        return Features(self.transport)

    @cached_property
    def streams(self) -> Streams:
        from shipyard.client._streams import Streams

        return Streams(self.transport)

    @cached_property
    def transforms(self) -> Transforms:
        from shipyard.client._transforms import Transforms

        return Transforms(self.transport)

    @cached_property
    def cost(self) -> Cost:
        from shipyard.client._cost import Cost

        return Cost(self.transport)

    @cached_property
    def pipelines(self) -> Pipelines:
        from shipyard.client._pipelines import Pipelines

        return Pipelines(self.transport)

    @staticmethod
    def _local(settings: Settings | None) -> LocalTransport:
        """The in-process transport: the only place the SDK loads the platform."""
        from shipyard.client._local import LocalTransport
        from shipyard.config import load_settings
        from shipyard.platform import Platform
        from shipyard.security import ADMIN, bootstrap, context_for

        platform = Platform.open(settings or load_settings())
        bootstrap(platform)
        return LocalTransport(platform, context_for(platform, ADMIN))

    def start_run(
        self, experiment: str = "default", name: str | None = None, **kw: Any
    ) -> ActiveRun:
        """Start a tracked run: ``with client.start_run(experiment="x") as run: ...``."""
        return self.tracking.start_run(experiment, name, **kw)

    def log_model(self, run_id: str, model: Any, **options: Any) -> LoggedModel:
        """Serialize ``model`` here, in a safe format, and store it as the run's model.

        scikit-learn estimators and Pipelines are stored with skops (trusted types only),
        LightGBM and XGBoost models (Booster or scikit-learn API) natively, ONNX as given
        (a ModelProto or bytes from any framework), a PyTorch module as safetensors weights
        plus its class's source file (a code model: registering it needs
        ``registry:RegisterCode``; ``init=`` gives its JSON constructor arguments) or, with
        ``export="onnx"``, through ``torch.onnx.export`` (no code). A ``CodeModel`` is a
        class with ``load(artifacts)`` and ``predict(table)``, its source and safe artifacts.

        The signature is inferred from ``input_example`` (pandas, Arrow or numpy) and the
        model (``task=``, ``classes=`` when it cannot tell), or given as ``signature=``.
        With ``name=`` the model is registered as the next version of ``name`` at once
        (the run must have ended). Pickle-based formats are never produced.
        """
        from shipyard.client._log_model import log_model

        return log_model(self.transport, run_id, model, **options)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
