"""Bandit mode: Thompson sampling over feedback rewards moves traffic toward the better variant.

Each production variant is an arm with a Beta(1 + correct, 1 + wrong) posterior
from labelled, captured requests. A step draws from every posterior many times,
takes each arm's share of wins as its probability of being best, keeps a floor
of ``min_percent`` for exploration, and sets those shares as weights. Steps run
when ``bandit_step`` is called: by ``shipyard endpoints bandit NAME --follow``
(every ``interval_seconds``), or by cron calling ``--step`` or the REST route.
"""

from __future__ import annotations

import numpy as np

from shipyard.clock import epoch_seconds
from shipyard.endpoints._describe import endpoint_info
from shipyard.endpoints._quality import labelled_pairs, normalize_label
from shipyard.endpoints._statistics import probability_best
from shipyard.endpoints._variants import (
    bump,
    find_endpoint,
    lock_endpoint,
    refuse_during_rollout,
    state_of,
    variants_of,
)
from shipyard.errors import Conflict, InvalidInput
from shipyard.names import resource
from shipyard.schemas.endpoints import BanditArm, BanditStep, EndpointInfo
from shipyard.security import RequestContext, operation


def _endpoint_resource(name: str) -> str:
    return resource("endpoint", name)


@operation("endpoints:UpdateTraffic", _endpoint_resource, mutating=True)
def configure_bandit(
    ctx: RequestContext,
    name: str,
    enabled: bool,
    interval_seconds: float = 60.0,
    min_percent: float = 5.0,
) -> EndpointInfo:
    """Turn bandit mode on or off, with its step interval and exploration floor."""
    if not 1 <= interval_seconds <= 86_400:
        raise InvalidInput("must be from 1 s to one day", field="interval_seconds")
    if not 0 <= min_percent < 50:
        raise InvalidInput("must be from 0 to below 50", field="min_percent")
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        state = lock_endpoint(session, row)
        state.bandit = {
            **state.bandit,
            "enabled": enabled,
            "reward": "accuracy",
            "interval_seconds": interval_seconds,
            "min_percent": min_percent,
        }
        bump(session, row, state)
        return endpoint_info(session, row)


def thompson_weights(
    successes: list[int], failures: list[int], min_percent: float, rng: np.random.Generator
) -> tuple[list[float], list[float]]:
    """(probability each arm is best, weights in percent with the exploration floor)."""
    best = probability_best(successes, failures, 20_000, rng)
    floor = min(min_percent, 100 / len(best))
    weights = [round(floor + (100 - floor * len(best)) * p, 3) for p in best]
    return best, weights


@operation("endpoints:UpdateTraffic", _endpoint_resource, mutating=True)
def bandit_step(ctx: RequestContext, name: str, seed: int | None = None) -> BanditStep:
    """Recompute Thompson-sampling weights from feedback and set them, live."""
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        config = state_of(session, row).bandit
        arms = [v.name for v in variants_of(session, row.id) if v.role == "production"]
    if not config.get("enabled"):
        raise Conflict(
            f"bandit mode is off for endpoint {name!r}; "
            f"turn it on with `shipyard endpoints bandit {name} --enable`",
            field="bandit",
        )
    if len(arms) < 2:
        raise Conflict("bandit mode needs two or more production variants", field="bandit")
    labelled = labelled_pairs(ctx.platform, name, None)
    successes, failures = [], []
    for arm in arms:
        pairs = labelled.pairs.get(arm, [])
        wins = sum(normalize_label(p) == normalize_label(y) for p, y in pairs)
        successes.append(wins)
        failures.append(len(pairs) - wins)
    best, weights = thompson_weights(
        successes, failures, float(config.get("min_percent", 5.0)), np.random.default_rng(seed)
    )
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        refuse_during_rollout(session, name)
        state = lock_endpoint(session, row)
        by_name = {v.name: v for v in variants_of(session, row.id)}
        for arm, weight in zip(arms, weights, strict=True):
            if arm in by_name:
                by_name[arm].weight = weight
        state.bandit = {**state.bandit, "last_step_at": epoch_seconds()}
        bump(session, row, state)
        generation = state.generation
    return BanditStep(
        endpoint=name,
        arms=[
            BanditArm(
                variant=arm,
                successes=s,
                failures=f,
                posterior_mean=(1 + s) / (2 + s + f),
                probability_best=p,
                weight=w,
            )
            for arm, s, f, p, w in zip(arms, successes, failures, best, weights, strict=True)
        ],
        weights=dict(zip(arms, weights, strict=True)),
        generation=generation,
    )
