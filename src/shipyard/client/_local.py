"""The SDK's in-process transport: the service functions called in this process."""

from __future__ import annotations

from typing import Any

from shipyard.operations import BY_NAME
from shipyard.platform import Platform
from shipyard.schemas.jsonable import to_jsonable
from shipyard.security import RequestContext, new_request_id


class LocalTransport:
    """Calls the service functions in this process, as the given principal."""

    def __init__(self, platform: Platform, context: RequestContext) -> None:
        self.platform = platform
        self._context = context

    def call(self, operation: str, **arguments: Any) -> Any:
        ctx = RequestContext(
            platform=self.platform,
            principal=self._context.principal,
            policies=self._context.policies,
            request_id=new_request_id(),
        )
        return to_jsonable(BY_NAME[operation].invoke(ctx, arguments))

    def seal_audit_log(self) -> None:
        """Chain the audit events this process wrote (the server's sealer is not running)."""
        from shipyard.security import seal_audit_log

        seal_audit_log(self.platform)

    def close(self) -> None:
        self.platform.close()
