"""Request limits per principal: a rate (token bucket) and a daily quota, on both planes.

The limits are the settings' defaults (``rate_limit_per_second``, ``rate_limit_burst``,
``daily_request_quota``) unless a principal has its own (``principal_limits``, set with
``shipyard principals limits``). Each server process keeps its buckets in memory and
answers from memory: a refused request gets 429 with ``Retry-After``. A serving process
with N workers gives each worker 1/N of the rate, so the endpoint as a whole keeps it.

Daily quotas count over both planes and every process: each process adds its counts to
``principal_usage`` (one row per principal and UTC day) every ``flush_seconds`` and reads
the day's totals back, so a quota can be overshot by what other processes admitted in
the last interval, as cloud API quotas are enforced too.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import sqlalchemy as sa

from shipyard.errors import InvalidInput, TooManyRequests
from shipyard.names import resource
from shipyard.platform import Platform
from shipyard.schemas.security import PrincipalLimits
from shipyard.security._context import RequestContext
from shipyard.security._generation import bump_generation, current_generation
from shipyard.security._operation import operation
from shipyard.store.metadata import limit_tables as lt
from shipyard.store.metadata import tables as t

_log = logging.getLogger("shipyard.security")
_MAX_QUOTA = 10**12
_MAX_RATE = 1e6


@dataclass(frozen=True)
class _Limit:
    rate: float | None
    burst: float
    quota: int | None


LimitRow = tuple[str, float | None, int | None, int | None]
"""(principal, requests a second, burst, daily quota)."""


class LimitSource(Protocol):
    """Where a limiter reads limits and adds its counts (a serving worker's: its supervisor)."""

    def defaults(self) -> tuple[float | None, int | None, int | None]:
        """The settings' rate, burst and daily quota."""
        ...

    def limits(self) -> tuple[int, list[LimitRow]]:
        """(the security generation, every principal's own limits)."""
        ...

    def generation(self) -> int: ...

    def add_usage(self, day: date, pending: Mapping[str, int]) -> dict[str, int]:
        """Add ``pending`` to the day's counts; the day's totals by principal."""
        ...


class DatabaseLimitSource:
    """The limits and counts of the metadata store."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    def defaults(self) -> tuple[float | None, int | None, int | None]:
        settings = self._platform.settings
        return (
            settings.rate_limit_per_second,
            settings.rate_limit_burst,
            settings.daily_request_quota,
        )

    def limits(self) -> tuple[int, list[LimitRow]]:
        with self._platform.db.session() as session:
            generation = current_generation(session)
            rows = session.execute(
                sa.select(
                    t.Principal.name,
                    lt.PrincipalLimit.requests_per_second,
                    lt.PrincipalLimit.burst,
                    lt.PrincipalLimit.daily_quota,
                ).join(t.Principal, t.Principal.id == lt.PrincipalLimit.principal_id)
            ).all()
        return generation, [tuple(row) for row in rows]  # type: ignore[misc]

    def generation(self) -> int:
        with self._platform.db.session() as session:
            return current_generation(session)

    def add_usage(self, day: date, pending: Mapping[str, int]) -> dict[str, int]:
        with self._platform.db.session() as session:
            for principal, count in pending.items():
                updated = session.execute(
                    sa.update(lt.PrincipalUsage)
                    .where(lt.PrincipalUsage.principal == principal, lt.PrincipalUsage.day == day)
                    .values(requests=lt.PrincipalUsage.requests + count)
                )
                if updated.rowcount == 0:  # type: ignore[attr-defined]
                    session.add(lt.PrincipalUsage(principal=principal, day=day, requests=count))
                    session.flush()
            totals = session.execute(
                sa.select(lt.PrincipalUsage.principal, lt.PrincipalUsage.requests).where(
                    lt.PrincipalUsage.day == day
                )
            ).all()
        return {name: int(total) for name, total in totals}


class RequestLimiter:
    """Admits or refuses each principal's requests; ``share`` divides the rate (serving
    workers). Cheap when nothing is limited: one dict lookup."""

    def __init__(
        self, source: Platform | LimitSource, *, share: int = 1, flush_seconds: float = 2.0
    ) -> None:
        self._source = DatabaseLimitSource(source) if isinstance(source, Platform) else source
        self._share = max(1, share)
        self._flush_seconds = flush_seconds
        self._default = self._limit(*self._source.defaults())
        self._own: dict[str, _Limit] = {}
        self._buckets: dict[str, tuple[float, float]] = {}
        self._pending: dict[str, int] = {}
        self._used: dict[str, int] = {}
        self._day = _today()
        self._generation = -1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reload()

    def _limit(self, rate: float | None, burst: int | None, quota: int | None) -> _Limit:
        share = rate / self._share if rate is not None else None
        size = float(burst) / self._share if burst is not None else (share or 0.0)
        return _Limit(share, max(1.0, size), quota)

    @property
    def active(self) -> bool:
        return bool(self._own) or self._default != _Limit(None, 1.0, None)

    def reload(self) -> None:
        """Read every principal's own limits (and the security generation)."""
        generation, rows = self._source.limits()
        own = {name: self._limit(rate, burst, quota) for name, rate, burst, quota in rows}
        with self._lock:
            self._own, self._generation = own, generation

    def start(self) -> None:
        """Flush counts and follow limit changes in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="limits", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._flush_quietly()

    def _loop(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self._flush_quietly()
            try:
                if self._source.generation() != self._generation:
                    self.reload()
            except Exception:  # keep limiting with the last good copy
                _log.warning("could not reload request limits", exc_info=True)

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception:  # the counts stay pending for the next flush
            _log.warning("could not record request counts", exc_info=True)

    def check(self, principal: str) -> None:
        """Count one request of ``principal``, or raise TooManyRequests (nothing counted)."""
        limit = self._own.get(principal, self._default)
        if limit.rate is None and limit.quota is None:
            return
        now = time.monotonic()
        with self._lock:
            if limit.quota is not None:
                self._roll_day()
                used = self._used.get(principal, 0) + self._pending.get(principal, 0)
                if used >= limit.quota:
                    raise TooManyRequests(
                        f"{principal} has used its daily quota of {limit.quota} requests",
                        retry_after=_seconds_to_midnight(),
                    )
            if limit.rate is not None:
                tokens, at = self._buckets.get(principal, (limit.burst, now))
                tokens = min(limit.burst, tokens + (now - at) * limit.rate)
                if tokens < 1.0:
                    self._buckets[principal] = (tokens, now)
                    raise TooManyRequests(
                        f"{principal} is over its rate of {limit.rate * self._share:g} "
                        "requests a second",
                        retry_after=max(1, math.ceil((1.0 - tokens) / limit.rate)),
                    )
                self._buckets[principal] = (tokens - 1.0, now)
            if limit.quota is not None:
                self._pending[principal] = self._pending.get(principal, 0) + 1

    def _roll_day(self) -> None:
        today = _today()
        if today != self._day:
            self._day, self._used, self._pending = today, {}, {}

    def flush(self) -> None:
        """Add this process's counts to the day's totals and read the totals back."""
        with self._lock:
            self._roll_day()
            pending, self._pending, day = self._pending, {}, self._day
        quotas = self._default.quota is not None or any(
            limit.quota is not None for limit in self._own.values()
        )
        if not pending and not quotas:  # nothing to add and no total to read back
            return
        try:
            totals = self._source.add_usage(day, pending)
        except Exception:
            with self._lock:  # put them back: counted at the next flush
                for principal, count in pending.items():
                    self._pending[principal] = self._pending.get(principal, 0) + count
            raise
        with self._lock:
            if self._day == day:
                self._used = totals


def _today() -> date:
    return datetime.now(UTC).date()


def _seconds_to_midnight() -> int:
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return max(1, math.ceil((midnight - now).total_seconds()))


def _principal_row(session: sa.orm.Session, name: str) -> t.Principal:
    from shipyard.errors import NotFound

    row = session.scalar(sa.select(t.Principal).where(t.Principal.name == name))
    if row is None:
        raise NotFound(f"principal {name!r} does not exist", field="principal")
    return row


def _limits_info(
    session: sa.orm.Session, platform: Platform, principal: t.Principal
) -> PrincipalLimits:
    own = session.get(lt.PrincipalLimit, principal.id)
    used = session.scalar(
        sa.select(lt.PrincipalUsage.requests).where(
            lt.PrincipalUsage.principal == principal.name, lt.PrincipalUsage.day == _today()
        )
    )
    settings = platform.settings
    if own is None:
        return PrincipalLimits(
            principal=principal.name,
            requests_per_second=settings.rate_limit_per_second,
            burst=settings.rate_limit_burst,
            daily_quota=settings.daily_request_quota,
            own=False,
            requests_today=int(used or 0),
        )
    return PrincipalLimits(
        principal=principal.name,
        requests_per_second=own.requests_per_second,
        burst=own.burst,
        daily_quota=own.daily_quota,
        own=True,
        requests_today=int(used or 0),
        updated_by=own.updated_by,
        updated_at=own.updated_at,
    )


@operation(
    "iam:GetPrincipalLimits", lambda principal: resource("principal", principal), mutating=False
)
def get_principal_limits(ctx: RequestContext, principal: str) -> PrincipalLimits:
    """A principal's request rate, burst and daily quota (its own, or the defaults), and
    the requests it made today (as flushed by the servers, every few seconds)."""
    with ctx.platform.db.session() as session:
        return _limits_info(session, ctx.platform, _principal_row(session, principal))


def _check_number(value: object, field: str, *, integer: bool, top: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput("must be a number", field=field)
    if integer and not isinstance(value, int):
        raise InvalidInput("must be a whole number", field=field)
    if not math.isfinite(value) or value <= 0 or value > top:
        raise InvalidInput(f"must be above 0 and at most {top:g}", field=field)


@operation(
    "iam:PutPrincipalLimits", lambda principal: resource("principal", principal), mutating=True
)
def put_principal_limits(
    ctx: RequestContext,
    principal: str,
    requests_per_second: float | None = None,
    burst: int | None = None,
    daily_quota: int | None = None,
    clear: bool = False,
) -> PrincipalLimits:
    """Give a principal its own limits (None: unlimited in that respect), or with
    ``clear`` go back to the settings' defaults. Servers apply them within seconds."""
    _check_number(requests_per_second, "requests_per_second", integer=False, top=_MAX_RATE)
    _check_number(burst, "burst", integer=True, top=_MAX_RATE)
    _check_number(daily_quota, "daily_quota", integer=True, top=_MAX_QUOTA)
    if clear and (requests_per_second, burst, daily_quota) != (None, None, None):
        raise InvalidInput("clear takes no limits with it", field="clear")
    if burst is not None and requests_per_second is None:
        raise InvalidInput("a burst needs a rate (requests_per_second)", field="burst")
    with ctx.platform.db.session() as session:
        row = _principal_row(session, principal)
        own = session.get(lt.PrincipalLimit, row.id)
        if clear:
            if own is not None:
                session.delete(own)
        else:
            if own is None:
                own = lt.PrincipalLimit(principal_id=row.id, updated_by=ctx.principal)
                session.add(own)
            own.requests_per_second = requests_per_second
            own.burst = burst
            own.daily_quota = daily_quota
            own.updated_by = ctx.principal
            own.updated_at = datetime.now(UTC)
        bump_generation(session)
        session.flush()
        return _limits_info(session, ctx.platform, row)
