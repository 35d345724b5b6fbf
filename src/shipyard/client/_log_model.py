"""``log_model``: serialize a model on the client in a safe format and upload it to a run.

The same on both transports: the files ``SavedModel.artifacts()`` lists (the layout the
registry reads; ``model/meta.json`` last) go up through the artifact operation, so a
notebook, a script or a job logs exactly what a training job stores.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.client._transport import Transport
from shipyard.schemas.registry import ModelVersionInfo
from shipyard.schemas.tracking import ArtifactInfo

if TYPE_CHECKING:
    from shipyard.flavors import ModelSignature, Task


@dataclass(frozen=True)
class LoggedModel:
    """What ``log_model`` stored: the run's model files, and the version if it registered."""

    run_id: str
    flavor: str
    signature: ModelSignature
    artifacts: list[ArtifactInfo]
    code_digest: str | None = None
    version: ModelVersionInfo | None = None


def log_model(
    transport: Transport,
    run_id: str,
    model: Any,
    *,
    name: str | None = None,
    input_example: Any = None,
    signature: ModelSignature | dict[str, Any] | None = None,
    task: Task | None = None,
    classes: Sequence[Any] | None = None,
    target: str = "target",
    init: Mapping[str, Any] | None = None,
    outputs: str | None = None,
    export: str | None = None,
) -> LoggedModel:
    """Store ``model`` as the run's model; with ``name``, register it (the run must be finished).

    See ``Client.log_model`` for the formats each framework is stored in.
    """
    from shipyard.flavors import save_for_logging

    saved = save_for_logging(
        model,
        input_example=input_example,
        signature=signature,
        task=task,
        classes=classes,
        target=target,
        init=init,
        outputs=outputs,
        export=export,
    )
    stored = [
        ArtifactInfo.model_validate(
            transport.call("tracking.log_artifact", run_id=run_id, path=path, content=data)
        )
        for path, data in saved.artifacts()
    ]
    version = None
    if name is not None:
        version = ModelVersionInfo.model_validate(
            transport.call(
                "registry.register", name=name, run_id=run_id, client_token=uuid.uuid4().hex
            )
        )
    return LoggedModel(run_id, saved.flavor, saved.signature, stored, saved.code_digest, version)
