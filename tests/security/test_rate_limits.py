"""Request limits per principal: a rate and a daily quota, 429 with Retry-After, on both planes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.conftest import LiveServer

from shipyard.client import Client, HttpTransport
from shipyard.errors import InvalidInput, NotFound, TooManyRequests
from shipyard.platform import Platform
from shipyard.security import RequestLimiter, context_for, put_principal_limits

READER = {"Statement": [{"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}]}


def _until(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.05)
    return found


def test_a_principal_over_its_rate_or_quota_gets_429_and_others_do_not(
    api_server: LiveServer, admin_key: str
) -> None:
    admin = Client(transport=HttpTransport(api_server.url, admin_key))
    admin.iam.put_policy("reader", READER)
    keys = {}
    for name in ("bot", "quota-bot"):
        admin.iam.create_principal(name, kind="service")
        admin.iam.attach_policy(name, "reader")
        keys[name] = admin.iam.create_api_key(name).token
    assert admin.iam.get_principal_limits("bot").own is False  # the defaults: none

    limits = admin.iam.put_principal_limits("bot", requests_per_second=0.5, burst=2)
    assert (limits.requests_per_second, limits.burst, limits.daily_quota) == (0.5, 2, None)
    assert limits.own and limits.updated_by == "admin"
    with httpx.Client(
        base_url=api_server.url, headers={"Authorization": f"Bearer {keys['bot']}"}
    ) as bot:
        # the server applies the change within seconds; then a burst of 2 and no more
        refused = _until(lambda: (r := bot.get("/api/v1/principals")).status_code == 429 and r)
        assert refused.json()["error"]["type"] == "TooManyRequests"
        assert "bot is over its rate of 0.5 requests a second" in refused.json()["error"]["message"]
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 2
        assert admin.iam.list_principals()  # another principal is not limited by it
        time.sleep(wait)
        assert bot.get("/api/v1/principals").status_code == 200

    admin.iam.put_principal_limits("quota-bot", daily_quota=3)
    quota_bot = Client(transport=HttpTransport(api_server.url, keys["quota-bot"]))
    with pytest.raises(TooManyRequests) as over:
        for _ in range(200):
            quota_bot.iam.list_principals()
            time.sleep(0.05)
    assert "quota-bot has used its daily quota of 3 requests" in over.value.message
    _until(lambda: admin.iam.get_principal_limits("quota-bot").requests_today >= 3)

    cleared = admin.iam.put_principal_limits("quota-bot", clear=True)
    assert (cleared.own, cleared.daily_quota) == (False, None)
    _until(lambda: _answers(quota_bot))

    # bad input names the field and changes nothing
    for args, field in [
        ({"requests_per_second": -1.0}, "requests_per_second"),
        ({"burst": 5}, "burst"),
        ({"daily_quota": 2.5}, "daily_quota"),
        ({"daily_quota": 3, "clear": True}, "clear"),
    ]:
        with pytest.raises(InvalidInput) as bad:
            admin.iam.put_principal_limits("bot", **args)
        assert bad.value.field == field
    assert admin.iam.get_principal_limits("bot").requests_per_second == 0.5
    with pytest.raises(NotFound) as missing:
        admin.iam.put_principal_limits("nobody", requests_per_second=1.0)
    assert missing.value.field == "principal"
    admin.close()
    quota_bot.close()


def _answers(client: Client) -> bool:
    try:
        client.iam.list_principals()
    except TooManyRequests:
        return False
    return True


def test_a_serving_process_takes_its_share_of_the_rate(platform: Platform) -> None:
    from shipyard.security import create_principal

    ctx = context_for(platform, "admin")
    create_principal(ctx, "caller", "service")
    put_principal_limits(ctx, "caller", requests_per_second=4.0, burst=4)
    limiter = RequestLimiter(platform, share=2)  # one of two workers: 2/s, bursts of 2
    limiter.check("caller")
    limiter.check("caller")
    with pytest.raises(TooManyRequests) as over:
        limiter.check("caller")
    assert over.value.retry_after == 1
    assert "rate of 4 requests a second" in over.value.message
    for _ in range(50):
        limiter.check("someone-else")  # no default limit
