"""What an alarm does on a transition: a signed webhook, a rollback, a pipeline run.

Each action runs as the alarm's creator, authorized again when it fires (a creator who
has lost the right is refused, and the history says so). An action's failure is recorded
in the alarm's history and never stops the evaluation or the other actions.

Webhooks are POSTed as JSON with two headers a receiver checks::

    X-Shipyard-Timestamp: 1765049000
    X-Shipyard-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

(reject a timestamp older than a few minutes to stop replays). The host must be in the
server's ``webhook_allowed_hosts``, at create and again at every send; redirects are not
followed, so a redirect cannot lead past the allowlist.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from shipyard._hosts import host_allowed
from shipyard.config import Settings
from shipyard.errors import InvalidInput, ShipyardError
from shipyard.platform import Platform
from shipyard.security import RequestContext, context_for
from shipyard.security._sealing import unseal

TIMESTAMP_HEADER = "X-Shipyard-Timestamp"
SIGNATURE_HEADER = "X-Shipyard-Signature"


def webhook_url_problem(settings: Settings, url: str) -> str | None:
    """Why an alarm may not POST to ``url``, or None when it may."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as error:
        return f"{url!r} is not a valid URL: {error}"
    if parts.scheme not in ("http", "https"):
        return "a webhook URL must start with http:// or https://"
    if parts.username or parts.password:
        return "a webhook URL may not carry credentials; use the signing secret"
    host = parts.hostname
    if not host:
        return f"{url!r} names no host"
    if not host_allowed(host, settings.webhook_allowed_hosts):
        listed = ", ".join(settings.webhook_allowed_hosts) or "none"
        return (
            f"host {host!r} is not in the server's webhook_allowed_hosts ({listed}); "
            "hostnames must be listed literally, IP addresses may fall in a listed network"
        )
    return None


def check_webhook_url(settings: Settings, url: str, field: str) -> None:
    problem = webhook_url_problem(settings, url)
    if problem is not None:
        raise InvalidInput(problem, field=field)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def send_webhook(
    platform: Platform, alarm: str, action: dict[str, Any], payload: dict[str, Any]
) -> str:
    """POST the payload; the outcome as a sentence. Raises ShipyardError on refusal/failure."""
    url = action["url"]
    problem = webhook_url_problem(platform.settings, url)
    if problem is not None:
        raise InvalidInput(f"webhook not sent: {problem}", field="url")
    secret = unseal(platform.settings, action["secret"], alarm) if action.get("secret") else ""
    body = json.dumps(payload, sort_keys=True, default=str).encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    try:
        response = httpx.post(
            url,
            content=body,
            headers=headers,
            timeout=float(action.get("timeout_seconds", 5.0)),
            follow_redirects=False,
        )
    except httpx.HTTPError as error:
        raise ShipyardError(f"webhook to {_shown(url)} failed: {type(error).__name__}") from None
    if response.status_code >= 300:
        raise ShipyardError(f"webhook to {_shown(url)} answered {response.status_code}")
    return f"webhook to {_shown(url)} answered {response.status_code}"


def _shown(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def creator_context(platform: Platform, principal: str, alarm: str) -> RequestContext:
    return context_for(platform, principal, request_id=f"alarm-{alarm}")


def roll_back(platform: Platform, principal: str, alarm: str, endpoint: str) -> str:
    """Roll back the endpoint's running deployment as the creator; only a running one."""
    from shipyard.deploy import rollback_endpoint
    from shipyard.endpoints import running_deployment

    with platform.db.session() as session:
        running = running_deployment(session, endpoint)
    if running is None:
        return f"endpoint {endpoint} has no running deployment; nothing rolled back"
    info = rollback_endpoint(creator_context(platform, principal, alarm), endpoint)
    return f"rolled back deployment {info.id} on endpoint {endpoint} ({info.status})"


def start_pipeline(
    platform: Platform, principal: str, alarm: str, pipeline: str, parameters: dict[str, Any]
) -> str:
    """Start a pipeline run as the creator (trigger ``alarm:<name>``); ``start_run``
    authorizes it as that principal."""
    try:
        start_run = importlib.import_module("shipyard.pipelines").start_run
    except (ImportError, AttributeError) as error:
        raise ShipyardError(
            f"pipeline {pipeline} not started: pipelines are not available here ({error})"
        ) from None
    run = start_run(platform, principal, pipeline, dict(parameters), f"alarm:{alarm}")
    return f"started run {run.id} of pipeline {pipeline}"
