from __future__ import annotations

import pytest

from shipyard.errors import Unauthenticated
from shipyard.security._keys import issue_key, parse_bearer, secret_matches


def test_keys_carry_256_random_bits_and_are_stored_as_hashes() -> None:
    key = issue_key()
    assert len(key.secret) >= 43  # 32 bytes, base64url
    assert key.secret not in key.secret_hash
    assert secret_matches(key.secret, key.secret_hash)
    assert not secret_matches(key.secret + "x", key.secret_hash)
    assert issue_key().token != key.token


def test_bearer_parsing() -> None:
    key = issue_key()
    assert parse_bearer(f"Bearer {key.token}") == (key.key_id, key.secret)
    for bad in (None, "", "Basic abc", "Bearer ", "Bearer sy_short_x", "Bearer nonsense"):
        with pytest.raises(Unauthenticated):
            parse_bearer(bad)
