"""The data plane answers a principal over its rate with 429 and Retry-After."""

from __future__ import annotations

from collections.abc import Callable

from servingkit import FULL_KEY, INVOKE_KEY, LiveServer

from shipyard.platform import Platform
from shipyard.security import (
    RequestLimiter,
    context_for,
    create_principal,
    put_principal_limits,
)
from shipyard.serving import ServingApp


def test_over_its_rate_a_caller_gets_429_with_retry_after(
    cancer_app: ServingApp, serve_app: Callable[[ServingApp], LiveServer], platform: Platform
) -> None:
    ctx = context_for(platform, "admin")
    create_principal(ctx, f"principal-of-{FULL_KEY}", "service")
    put_principal_limits(ctx, f"principal-of-{FULL_KEY}", requests_per_second=0.2, burst=2)
    cancer_app.limiter = RequestLimiter(platform)
    live = serve_app(cancer_app)
    row = {"instances": [[17.99, 10.38, 122.8, 1001.0]]}
    with live.client(FULL_KEY) as limited, live.client(INVOKE_KEY) as other:
        codes = [limited.post("/invocations", json=row).status_code for _ in range(3)]
        assert 429 not in codes[:2] and codes[2] == 429
        refused = limited.post("/invocations", json=row)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["type"] == "TooManyRequests"
        assert limited.get("/ping").status_code == 200  # probes are public, never limited
        assert other.post("/invocations", json=row).status_code != 429
