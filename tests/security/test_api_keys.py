"""A principal's keys listed (ids, prefixes, times; never a secret) and revoked, via the SDK."""

from __future__ import annotations

import pytest

from shipyard.client import Client
from shipyard.errors import NotFound


def test_keys_are_listed_without_secrets_and_show_revocation(client: Client) -> None:
    client.iam.create_principal("key-owner", kind="service")
    assert client.iam.list_api_keys("key-owner") == []
    first = client.iam.create_api_key("key-owner")
    second = client.iam.create_api_key("key-owner")
    assert first.token and second.token
    client.iam.revoke_api_key(first.key_id)

    listed = client.iam.list_api_keys("key-owner")
    assert [(k.key_id, k.revoked) for k in listed] == [
        (first.key_id, True),
        (second.key_id, False),
    ]
    assert listed[0].revoked_at is not None and listed[1].revoked_at is None
    assert all(k.token is None for k in listed)
    assert second.token.startswith(listed[1].prefix)
    secret = second.token.removeprefix(listed[1].prefix)  # may itself hold "_"
    assert len(secret) >= 20 and secret not in repr(listed)

    with pytest.raises(NotFound) as missing:
        client.iam.list_api_keys("nobody-here")
    assert missing.value.field == "principal"
