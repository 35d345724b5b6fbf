"""Searching runs with MLflow's filter syntax, translated to parameterized SQL.

Every user value reaches the database as a bound parameter; keys, comparators and
sort directions are chosen from fixed tables, so no part of a filter becomes SQL text.
Metric comparisons and sorting read each run's latest value (as MLflow does).
"""

from __future__ import annotations

import operator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from shipyard.errors import InvalidInput, NotFound
from shipyard.names import check_name, resource
from shipyard.schemas.tracking import RunPage
from shipyard.security import Access, RequestContext, operation
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import token_scope
from shipyard.tracking._filter import (
    Comparison,
    Kind,
    OrderKey,
    Value,
    parse_filter,
    parse_order_by,
)
from shipyard.tracking._read import run_infos, run_view
from shipyard.tracking._run_keyset import (
    TIEBREAK,
    SortKey,
    after,
    order_clauses,
    token,
    token_values,
)

MAX_RESULTS = 50_000  # as MLflow
MAX_EXPERIMENTS = 1000
_ATTRIBUTE_COLUMNS: dict[str, Any] = {
    "run_id": t.Run.id,
    "run_name": t.Run.name,
    "status": t.Run.status,
    "user_id": t.Run.created_by,
    "parent_run_id": t.Run.parent_run_id,
    "start_time": t.Run.start_time,
    "end_time": t.Run.end_time,
}
_VALUE_TABLES: dict[str, Any] = {
    "metric": t.RunLatestMetric,
    "param": t.RunParam,
    "tag": t.RunTag,
}
NARROW_AT_MOST = 2000
"""A filter's value comparison matching at most this many runs names them to the search."""
SYSTEM_TAGS = {
    "mlflow.parentRunId": "parent_run_id",
    "mlflow.runName": "run_name",
    "mlflow.user": "user_id",
}
"""MLflow's system tags that Shipyard keeps as run attributes: a filter on the tag reads
the attribute, so ``tags.mlflow.parentRunId = '...'`` finds a run's children."""


def _searched(session: Session, experiments: list[str] | None) -> list[str]:
    """The experiments a search reads: those named, or every experiment."""
    if experiments:
        return list(dict.fromkeys(experiments))
    return list(session.scalars(sa.select(t.Experiment.name).order_by(t.Experiment.name)))


def search_resource(session: Session, experiments: list[str] | None) -> str:
    names = _searched(session, experiments)
    return resource("experiment", names[0]) if names else resource("experiment")


def search_uses(session: Session, experiments: list[str] | None) -> list[Access]:
    """Listing runs in every other experiment searched (all of them when none is named)."""
    return [
        Access("tracking:ListRuns", resource("experiment", name))
        for name in _searched(session, experiments)[1:]
    ]


def _like_to_glob(pattern: str) -> str:
    """A LIKE pattern (``%``, ``_``, backslash escapes) as a case-sensitive SQLite GLOB."""
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(f"[{char}]" if char in "*?[" else char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(f"[{char}]" if char in "*?[" else char)
    if escaped:
        out.append("\\")
    return "".join(out)


def _compare(column: Any, op: str, value: Value, sqlite: bool) -> ColumnElement[bool]:
    result: ColumnElement[bool]
    if op == "LIKE" and sqlite:  # SQLite's LIKE ignores case; GLOB does not
        result = column.op("GLOB")(_like_to_glob(str(value)))
    elif op == "LIKE":
        result = column.like(value, escape="\\")
    elif op == "ILIKE":
        result = column.ilike(value, escape="\\")
    elif op in ("IN", "NOT IN"):
        listed = list(value) if isinstance(value, tuple) else [value]
        result = column.in_(listed) if op == "IN" else column.not_in(listed)
    else:
        result = _COMPARISONS[op](column, value)
    return result


_COMPARISONS: dict[str, Any] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _attribute_value(c: Comparison, key: str) -> Any:
    value = c.value
    if key in ("start_time", "end_time") and isinstance(value, float):  # epoch milliseconds
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            problem = f"at position {c.position}: {value} is not a time in epoch milliseconds"
            raise InvalidInput(problem, field="filter") from None
    if key == "status":  # MLflow writes FINISHED, Shipyard finished
        return tuple(v.lower() for v in value) if isinstance(value, tuple) else str(value).lower()
    return value


def _condition(c: Comparison, sqlite: bool) -> ColumnElement[bool]:
    kind, key = c.kind, c.key
    if kind == "tag" and key in SYSTEM_TAGS:
        kind, key = "attribute", SYSTEM_TAGS[key]
    if kind == "attribute":
        column = _ATTRIBUTE_COLUMNS[key]
        if c.op == "IS NULL":
            return column.is_(None)  # type: ignore[no-any-return]
        if c.op == "IS NOT NULL":
            return column.is_not(None)  # type: ignore[no-any-return]
        return _compare(column, c.op, _attribute_value(c, key), sqlite)
    table: Any = _VALUE_TABLES[kind]
    stored = sa.exists().where(table.run_id == t.Run.id, table.key == key)
    if c.op == "IS NULL":
        return ~stored
    if c.op == "IS NOT NULL":
        return stored
    return t.Run.id.in_(_matching(c, sqlite))


def _matching(c: Comparison, sqlite: bool) -> Any:
    """The runs whose metric, param or tag value passes ``c``."""
    table: Any = _VALUE_TABLES[c.kind]
    return sa.select(table.run_id).where(
        table.key == c.key, _compare(table.value, c.op, c.value, sqlite)
    )


def _conditions(
    session: Session, comparisons: list[Comparison], sqlite: bool
) -> list[ColumnElement[bool]]:
    """The filter's conditions, each value comparison planned by how many runs it matches.

    The database cannot tell how selective ``metrics.accuracy > 0.99`` is (one value
    column holds every key's values), so it may walk all 100,000 runs newest first, probing
    each, to find a hundred; or start from 60,000 matches and sort them all when walking
    would have stopped after a page. So each comparison's matches are read first, at most
    ``NARROW_AT_MOST`` + 1 of them, from the value table's index: a few are named to the
    search (a lookup of those runs); more become a per-run probe (a correlated EXISTS) of
    a walk of the runs, which stops with the page."""
    found = []
    for c in comparisons:
        kind = "attribute" if c.kind == "tag" and c.key in SYSTEM_TAGS else c.kind
        if kind == "attribute" or c.op in ("IS NULL", "IS NOT NULL"):
            found.append(_condition(c, sqlite))
            continue
        matching = _matching(c, sqlite)
        few = list(session.scalars(matching.limit(NARROW_AT_MOST + 1)))
        if len(few) <= NARROW_AT_MOST:
            found.append(t.Run.id.in_(few))
        else:
            found.append(matching.where(_VALUE_TABLES[c.kind].run_id == t.Run.id).exists())
    return found


def _sort_expression(kind: Kind, key: str) -> tuple[Any, tuple[Any, Any] | None]:
    """A sort key's expression, and the outer join (table, condition) it reads from: a
    run's metric, param or tag is one row at most (keyed by run and key), so the join
    neither repeats nor drops a run, and each row's value is read once, not once for the
    select, once for the order and again for each page bound as a subquery would be."""
    if kind == "attribute":
        return _ATTRIBUTE_COLUMNS[key], None
    table: Any = aliased(_VALUE_TABLES[kind])
    return table.value, (table, sa.and_(table.run_id == t.Run.id, table.key == key))


def _sort_keys(keys: list[OrderKey]) -> list[SortKey]:
    """The search's order: its ``order_by`` keys (runs without the value last either way),
    then newest first, then id."""
    found = []
    for k in keys:
        kind, key = k.kind, k.key
        if kind == "tag" and key in SYSTEM_TAGS:
            kind, key = "attribute", SYSTEM_TAGS[key]
        expression, join = _sort_expression(kind, key)
        python: type
        if kind == "attribute":
            python = datetime if key in ("start_time", "end_time") else str
            nullable = bool(expression.expression.nullable)
        else:
            python, nullable = (float if kind == "metric" else str), True
        found.append(SortKey(expression, k.ascending, python, nullable, join))
    ordered = {id(k.expression) for k in found}  # a column sorted twice keeps its first
    return [*found, *(k for k in TIEBREAK if id(k.expression) not in ordered)]


def _experiment_ids(session: Session, names: list[str]) -> list[int]:
    found = dict(
        session.execute(
            sa.select(t.Experiment.name, t.Experiment.id).where(t.Experiment.name.in_(names))
        ).all()
    )
    for index, name in enumerate(names):
        if name not in found:
            raise NotFound(f"experiment {name!r} does not exist", field=f"experiments.{index}")
    return [found[n] for n in names]


def _page(
    session: Session, keys: list[SortKey], where: list[Any], start: list[Any] | None, limit: int
) -> list[Any]:
    """Up to ``limit`` rows (the run, then its sort key's values) after ``start``.

    Sorted first by a metric, param or tag, the page is read in two parts: the runs that
    have the value, joined from that table's (key, value) index in order, so the database
    stops after ``limit`` of them instead of sorting every run; then, if the page is not
    full yet, the runs without it (sorted last), newest first.
    """
    first = keys[0]
    if first.join is None:
        return _select(session, keys, where, start, limit, inner=False)
    rows: list[Any] = []
    if start is None or start[0] is not None:
        having = [replace(first, nullable=False), *keys[1:]]
        rows = _select(session, having, where, start, limit, inner=True)
    if len(rows) < limit:
        lacking = [*where, first.expression.is_(None)]
        continued = start if start is not None and start[0] is None else None
        rows += _select(session, keys, lacking, continued, limit - len(rows), inner=False)
    return rows


def _select(
    session: Session,
    keys: list[SortKey],
    where: list[Any],
    start: list[Any] | None,
    limit: int,
    *,
    inner: bool,
) -> list[Any]:
    """The rows after ``start`` in ``keys`` order; ``inner``: the first key's table is
    joined, not outer-joined (only runs that have its value)."""
    query = sa.select(t.Run, *(k.expression for k in keys))
    for index, join in enumerate(k.join for k in keys):
        if join is not None:
            query = query.join(*join) if inner and index == 0 else query.outerjoin(*join)
    bounded = where if start is None else [*where, after(keys, start)]
    query = query.where(*bounded).order_by(*order_clauses(keys)).limit(limit)
    return list(session.execute(query).all())


@operation("tracking:ListRuns", search_resource, uses=search_uses, mutating=False)
def search_runs(
    ctx: RequestContext,
    experiments: list[str] | None = None,
    filter: str = "",
    order_by: list[str] | None = None,
    max_results: int = 100,
    page_token: str | None = None,
    view: str = "active",
) -> RunPage:
    """Runs of the given experiments (every experiment when none is named) matching an
    MLflow-syntax filter, sorted by ``order_by``, a page at a time; ``view`` is ``active``
    (not deleted, as MLflow's ACTIVE_ONLY), ``deleted`` or ``all``."""
    if experiments is not None and len(experiments) > MAX_EXPERIMENTS:
        raise InvalidInput(f"at most {MAX_EXPERIMENTS} experiments", field="experiments")
    for index, name in enumerate(experiments or []):
        check_name(name, field=f"experiments.{index}")
    if not 1 <= max_results <= MAX_RESULTS:
        raise InvalidInput(f"must be between 1 and {MAX_RESULTS}", field="max_results")
    comparisons = parse_filter(filter)
    order = parse_order_by(order_by or [])
    shown = run_view(view)
    keys = _sort_keys(order)
    with ctx.platform.db.session() as session:
        names = _searched(session, experiments)
        scope = token_scope(
            "runs.search", [names if experiments else [], filter, order_by or [], view]
        )
        start = token_values(page_token, scope, keys) if page_token else None
        ids = _experiment_ids(session, names)
        sqlite = session.get_bind().dialect.name == "sqlite"
        where = [
            t.Run.experiment_id.in_(ids),
            *shown,
            *_conditions(session, comparisons, sqlite),
        ]
        rows = _page(session, keys, where, start, max_results + 1)
        shown_rows = rows[:max_results]
        runs = run_infos(session, [row[0] for row in shown_rows])
    more = len(rows) > max_results
    next_token = token(scope, list(shown_rows[-1][1:])) if more else None
    return RunPage(runs=runs, next_page_token=next_token)
