"""The SDK's model registry group; each method is one catalog operation."""

from __future__ import annotations

import builtins
import uuid
from typing import Any

import httpx

from shipyard.client._group import _Group
from shipyard.client._paging import Listing, fetch_listing
from shipyard.errors import InvalidInput, StorageError
from shipyard.names import parse_reference
from shipyard.schemas.cards import ModelCard
from shipyard.schemas.datasets import DeletionInfo
from shipyard.schemas.registry import ApprovalDecision, LineageGraph, ModelInfo, ModelVersionInfo

_REGISTER_ATTEMPTS = 3


class Models(_Group):
    def register(
        self, name: str, run_id: str, *, client_token: str | None = None
    ) -> ModelVersionInfo:
        """Register the model a finished run produced as the next version of ``name``.

        Every call carries a client token (a new one unless given), so the call is retried
        when the connection fails or the server is briefly unavailable without making a
        second version; pass your own token to make your own retries safe as well.
        """
        token = client_token or uuid.uuid4().hex
        for attempt in range(_REGISTER_ATTEMPTS):
            try:
                return ModelVersionInfo.model_validate(
                    self._t.call("registry.register", name=name, run_id=run_id, client_token=token)
                )
            except (httpx.TransportError, StorageError):
                if attempt + 1 == _REGISTER_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def create(self, name: str, tags: dict[str, str] | None = None) -> ModelInfo:
        """Create the model ``name`` with no versions yet; ``tags`` are set at creation
        (which needs ``registry:TagResource`` too)."""
        args: dict[str, Any] = {"name": name}
        if tags:
            args["tags"] = tags
        return ModelInfo.model_validate(self._t.call("registry.create_model", **args))

    def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        name_contains: str | None = None,
    ) -> Listing[ModelInfo]:
        """Models by name (those whose name holds ``name_contains``, any case): every
        one, or with ``limit``/``page_token`` one page."""
        return fetch_listing(
            self._t,
            "registry.list_models",
            ModelInfo,
            limit,
            page_token,
            name_contains=name_contains,
        )

    def get(self, name: str) -> ModelInfo:
        return ModelInfo.model_validate(self._t.call("registry.get_model", name=name))

    def update(self, name: str, *, four_eyes: bool | None = None) -> ModelInfo:
        """Change a model's settings. ``four_eyes``: approving a version needs a principal
        other than whoever registered it, trained its run or registered its code."""
        args: dict[str, Any] = {"name": name}
        if four_eyes is not None:
            args["four_eyes"] = four_eyes
        return ModelInfo.model_validate(self._t.call("registry.update_model", **args))

    def card(self, name: str, version: int) -> ModelCard:
        """The version's model card (``.to_markdown()``, ``.to_html()``): approvals, training
        run and code digests, training data and its validation, evaluations, lineage."""
        found = self._t.call("registry.model_card", name=name, version=version)
        return ModelCard.model_validate(found)

    def version(self, ref: str) -> ModelVersionInfo:
        """``name@3``, ``name@champion`` or ``name`` (latest)."""
        return ModelVersionInfo.model_validate(self._t.call("registry.get_version", ref=ref))

    def set_approval(
        self, name: str, version: int, status: str, reason: str | None = None
    ) -> ModelVersionInfo:
        """Approve, reject or reset a version; ``reason`` (at most 1000 characters) is kept."""
        args: dict[str, Any] = {"name": name, "version": version, "status": status}
        if reason is not None:
            args["reason"] = reason
        return ModelVersionInfo.model_validate(self._t.call("registry.set_approval", **args))

    def approval_history(self, name: str, version: int) -> builtins.list[ApprovalDecision]:
        """Every approval decision on a version (status, reason, who, when), oldest first."""
        found = self._t.call("registry.approval_history", name=name, version=version)
        return [ApprovalDecision.model_validate(d) for d in found]

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersionInfo:
        return ModelVersionInfo.model_validate(
            self._t.call("registry.set_alias", name=name, alias=alias, version=version)
        )

    def delete_alias(self, name: str, alias: str) -> ModelInfo:
        return ModelInfo.model_validate(
            self._t.call("registry.delete_alias", name=name, alias=alias)
        )

    def delete(self, ref: str, *, reason: str) -> DeletionInfo:
        """Delete ``name@version`` (or every version of ``name``); a tombstone stays in
        lineage. Refused while an endpoint serves the version."""
        parsed = parse_reference(ref, field="model")
        if parsed.alias is not None:
            raise InvalidInput("name a version number, not an alias", field="model")
        return DeletionInfo.model_validate(
            self._t.call(
                "registry.delete_version", name=parsed.name, version=parsed.version, reason=reason
            )
        )

    def lineage(self, ref: str, kind: str = "model") -> LineageGraph:
        """Upstream of a model version, or downstream of a dataset version or run."""
        return LineageGraph.model_validate(self._t.call("registry.lineage", kind=kind, ref=ref))
