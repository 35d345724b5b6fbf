"""The named-resource-with-versions contract, on SQLite and PostgreSQL.

Every versioned kind (datasets, contracts, transforms, streams, feature views, models)
finds, numbers and reuses its versions through these functions; contracts stand for the
"latest must match" kinds and datasets for the content-addressed "any version" kind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from shipyard.errors import NotFound
from shipyard.store.metadata import (
    CONTRACTS,
    DATASETS,
    Database,
    add_version,
    claim_parent,
    find_unchanged,
    find_versioned,
    next_number,
)

WORKERS = 6


@pytest.fixture
def db(metadata_url: str) -> Iterator[Database]:
    database = Database(metadata_url)
    database.upgrade()
    yield database
    database.dispose()


def add_contract(db: Database, name: str, digest: str) -> tuple[int, bool]:
    with db.session() as session:
        row, created = add_version(
            session, CONTRACTS, name, reuse_digest=digest, document={"d": digest}, created_by="t"
        )
        return row.version, created


def add_dataset(db: Database, name: str, digest: str) -> tuple[int, bool]:
    fields: dict[str, Any] = {"size_bytes": 1, "rows": 1, "schema": [], "profile": {}}
    with db.session() as session:
        row, created = add_version(
            session, DATASETS, name, reuse_digest=digest, created_by="t", **fields
        )
        return row.version, created


def test_first_use_creates_the_parent_and_numbers_from_one(db: Database) -> None:
    assert add_contract(db, "orders", "sha256:a") == (1, True)
    assert add_contract(db, "orders", "sha256:b") == (2, True)
    assert add_contract(db, "customers", "sha256:a") == (1, True)


def test_an_unchanged_spec_keeps_the_latest_version(db: Database) -> None:
    assert add_contract(db, "orders", "sha256:a") == (1, True)
    assert add_contract(db, "orders", "sha256:a") == (1, False)
    assert add_contract(db, "orders", "sha256:b") == (2, True)
    # Going back to an earlier spec is a change from the latest: a new version.
    assert add_contract(db, "orders", "sha256:a") == (3, True)
    with db.session() as session:
        assert find_unchanged(session, CONTRACTS, "orders", "sha256:a") is not None
        assert find_unchanged(session, CONTRACTS, "orders", "sha256:b") is None
        assert find_unchanged(session, CONTRACTS, "nobody", "sha256:a") is None


def test_content_addressed_kinds_reuse_any_version(db: Database) -> None:
    assert add_dataset(db, "orders", "sha256:a") == (1, True)
    assert add_dataset(db, "orders", "sha256:b") == (2, True)
    assert add_dataset(db, "orders", "sha256:a") == (1, False)
    with db.session() as session:
        found = find_unchanged(session, DATASETS, "orders", "sha256:a")
        assert found is not None and found.version == 1


def test_name_at_n_and_latest_resolve_with_not_found_naming_the_field(db: Database) -> None:
    add_contract(db, "orders", "sha256:a")
    add_contract(db, "orders", "sha256:b")
    with db.session() as session:
        parent, latest = find_versioned(session, CONTRACTS, "orders")
        assert parent.name == "orders" and latest.version == 2
        assert find_versioned(session, CONTRACTS, "orders", 1)[1].digest == "sha256:a"
        with pytest.raises(NotFound) as missing_name:
            find_versioned(session, CONTRACTS, "nope", field="contract")
        assert missing_name.value.field == "contract"
        assert missing_name.value.message == "contract 'nope' does not exist"
        with pytest.raises(NotFound) as missing_version:
            find_versioned(session, CONTRACTS, "orders", 7, version_field="ref")
        assert missing_version.value.field == "ref"
        assert missing_version.value.message == "contract 'orders' has no version 7"


def test_a_parent_without_versions_says_so(db: Database) -> None:
    with db.session() as session:
        parent = claim_parent(session, CONTRACTS, "empty")
        assert next_number(session, CONTRACTS, parent) == 1
    with db.session() as session, pytest.raises(NotFound, match="contract 'empty' has no versions"):
        find_versioned(session, CONTRACTS, "empty")


def run_together(work: Any, count: int) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released at once; re-raise the first failure."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def test_concurrent_creators_of_new_specs_get_distinct_numbers(db: Database) -> None:
    results = run_together(lambda i: add_contract(db, "orders", f"sha256:{i}"), WORKERS)
    assert sorted(version for version, _ in results) == list(range(1, WORKERS + 1))
    assert all(created for _, created in results)


def test_concurrent_creators_of_one_spec_share_one_version(db: Database) -> None:
    results = run_together(lambda i: add_contract(db, "orders", "sha256:same"), WORKERS)
    assert {version for version, _ in results} == {1}
    assert [created for _, created in results].count(True) == 1
    data = run_together(lambda i: add_dataset(db, "orders", f"sha256:{i % 2}"), WORKERS)
    assert {version for version, _ in data} == {1, 2}
    assert [created for _, created in data].count(True) == 2


def test_a_creator_waits_for_an_open_transaction_on_the_same_name(db: Database) -> None:
    """The second creator numbers after the first commits, instead of colliding with it."""
    first_added = threading.Event()
    release_first = threading.Event()
    second: list[tuple[int, bool]] = []

    def first() -> None:
        with db.session() as session:
            add_version(
                session, CONTRACTS, "orders", reuse_digest="sha256:a", document={}, created_by="t"
            )
            first_added.set()
            release_first.wait(timeout=30)

    holder = threading.Thread(target=first)
    holder.start()
    assert first_added.wait(timeout=30)
    waiter = threading.Thread(target=lambda: second.append(add_contract(db, "orders", "sha256:b")))
    waiter.start()
    waiter.join(timeout=0.5)  # the second creator is blocked on the first's lock meanwhile
    release_first.set()
    holder.join()
    waiter.join()
    assert second == [(2, True)]
    with db.session() as session:
        assert [find_versioned(session, CONTRACTS, "orders", n)[1].digest for n in (1, 2)] == [
            "sha256:a",
            "sha256:b",
        ]
