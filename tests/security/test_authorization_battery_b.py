"""The authorization battery's second half: the cases of ``test_authorization_battery.py``
not run there, on a world of their own, so that two test workers share the battery."""

from __future__ import annotations

import pytest
from tests.security import test_authorization_battery as battery

world = battery.world


def test_the_two_halves_hold_every_operation_once() -> None:
    halves = [battery.shard(index) for index in range(battery.SHARDS)]
    assert battery.SHARDS == len(halves) == 2
    every = [name for half in halves for name in half]
    assert sorted(every) == sorted(op.name for op in battery.OPERATIONS)
    assert len(every) == len(set(every))


@pytest.mark.parametrize("operation", battery.shard(1))
def test_each_declared_resource_is_enforced(world: battery.World, operation: str) -> None:
    battery.enforce(world, operation)
