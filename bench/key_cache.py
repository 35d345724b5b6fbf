"""The data plane's per-request authorization cost, from the key cache's memory.

    python bench/key_cache.py            # 200,000 calls per case, 5 rounds, medians

A SQLite installation with one key per case: a policy without a Condition (decisions
memoised), one testing the caller's tags, and one testing the client's address, TLS and
the endpoint's tags. Prints microseconds per ``CachedKeyAuthorizer.authorize`` call.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.errors import AccessDenied
from shipyard.platform import Platform
from shipyard.security import CachedKeyAuthorizer, bootstrap

RESOURCE = "sy:endpoint/bench"
CASES: dict[str, dict[str, Any]] = {
    "no condition (memoised)": {},
    "sy:PrincipalTag": {"StringEquals": {"sy:PrincipalTag/tier": "gold"}},
    "sy:SourceIp + sy:SecureTransport + sy:ResourceTag": {
        "IpAddress": {"sy:SourceIp": "127.0.0.0/8"},
        "Bool": {"sy:SecureTransport": "false"},
        "StringEquals": {"sy:ResourceTag/team": "risk"},
    },
}


def _setup(platform: Platform) -> dict[str, str]:
    """One principal and key per case; the endpoint's tag set straight in its table when the
    endpoint does not exist (the bench needs no model)."""
    admin = Client(settings=platform.settings)
    tokens: dict[str, str] = {}
    for number, (label, condition) in enumerate(CASES.items()):
        name = f"p{number}"
        admin.iam.create_principal(name)
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Action": "endpoints:Invoke",
            "Resource": "sy:endpoint/*",
        }
        if condition:
            statement["Condition"] = condition
        admin.iam.put_policy(name, {"Statement": [statement]})
        admin.iam.attach_policy(name, name)
        admin.iam.tag(f"sy:principal/{name}", {"tier": "gold"})
        token = admin.iam.create_api_key(name).token
        assert token is not None
        tokens[label] = token
    admin.close()
    from shipyard.store.metadata import tag_tables as tt

    with platform.db.session() as session:
        session.add(tt.ResourceTag(resource=RESOURCE, key="team", value="risk"))
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        platform = Platform.open(Settings(home=Path(tmp) / "home"))
        bootstrap(platform)
        tokens = _setup(platform)
        cache = CachedKeyAuthorizer(platform, poll_seconds=0)
        takes_transport = "transport" in inspect.signature(cache.authorize).parameters
        extra: tuple[Any, ...] = ()
        if takes_transport:
            from shipyard.security import Transport

            extra = (Transport("127.0.0.1", False),)
        print("| case | µs per authorize (median) | range |")
        print("|---|---:|---|")
        for label, token in tokens.items():
            header = f"Bearer {token}"
            try:
                cache.authorize(header, "endpoints:Invoke", RESOURCE, *extra)
            except AccessDenied:
                print(f"| {label} | refused: this build lacks the facts | - |")
                continue
            rounds = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                for _ in range(args.calls):
                    cache.authorize(header, "endpoints:Invoke", RESOURCE, *extra)
                rounds.append((time.perf_counter() - started) / args.calls * 1e6)
            low, high = min(rounds), max(rounds)
            print(f"| {label} | {statistics.median(rounds):.2f} | {low:.2f}-{high:.2f} |")
        cache.stop()
        platform.close()


if __name__ == "__main__":
    main()
