"""``shipyard features``: apply views, build point-in-time training sets, serve online features."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.features import EndpointFeatures, FeatureViewInfo

app = typer.Typer(help="Feature views, training sets and online features.", no_args_is_help=True)


def _views_table(items: list[FeatureViewInfo]) -> None:
    table(
        "Feature views",
        ["view", "version", "source", "entities", "event time", "features", "ttl (s)", "created"],
        [
            (
                v.name,
                v.version,
                f"{v.source} (v{v.source_version})",
                ", ".join(v.entities),
                v.event_time,
                ", ".join(v.features),
                v.ttl or "none",
                v.created_at,
            )
            for v in items
        ],
    )


@app.command()
def apply(
    file: Annotated[Path, typer.Argument(help="YAML file of feature views.")],
    as_json: JsonOption = False,
) -> None:
    """Check every view in FILE against its source dataset, then store new versions."""
    items = STATE.client().features.apply(file)

    def show() -> None:
        for v in items:
            verb = "created" if v.created else "unchanged"
            console.print(f"[bold]{v.ref}[/] {verb}")

    emit(items, as_json, show)


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """The latest version of every feature view."""
    items = STATE.client().features.list()
    emit(items, as_json, lambda: _views_table(items))


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="VIEW or VIEW@VERSION")], as_json: JsonOption = False
) -> None:
    """One feature view with its column types."""
    info = STATE.client().features.get(ref)

    def render() -> None:
        _views_table([info])
        table("Columns", ["column", "type"], list(info.columns.items()))

    emit(info, as_json, render)


def _time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not an ISO 8601 time", field=field) from None


@app.command()
def materialize(
    view: str,
    start: Annotated[str | None, typer.Option(help="ISO time; rows at or after it.")] = None,
    end: Annotated[str | None, typer.Option(help="ISO time; rows before it (default now).")] = None,
    incremental: Annotated[
        bool, typer.Option("--incremental", help="From the last materialized end to END.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Load each entity's latest values of VIEW into the online store."""
    info = STATE.client().features.materialize(
        view, start=_time(start, "start"), end=_time(end, "end"), incremental=incremental
    )
    since = info.start.isoformat() if info.start else "the beginning"
    emit(
        info,
        as_json,
        lambda: console.print(
            f"[bold]{info.view}@{info.version}[/]: {info.rows} entities from {info.source} "
            f"({since} to {info.end.isoformat()}) into the {info.online_store} online store"
        ),
    )


@app.command()
def retrieve(
    entities: Annotated[str, typer.Option(help="Entity dataset NAME[@VERSION] or a local file.")],
    features: Annotated[
        list[str], typer.Option("--features", "-f", help="VIEW or VIEW:FEATURE (repeatable).")
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="Dataset to store it as.")],
    timestamp_column: Annotated[str | None, typer.Option(help="Entity timestamp column.")] = None,
    short_names: Annotated[
        bool, typer.Option("--short-names", help="Name columns FEATURE, not VIEW__FEATURE.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Point-in-time features for each entity row, stored as a new dataset version."""
    info = STATE.client().features.get_historical_features(
        entities,
        features,
        output,
        timestamp_column=timestamp_column,
        full_feature_names=not short_names,
    )
    emit(
        info,
        as_json,
        lambda: console.print(
            f"[bold]{info.ref}[/]: {info.rows} rows, {len(info.columns)} columns ({info.source})"
        ),
    )


def _entity(text: str) -> dict[str, Any]:
    entity: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"{text!r} is not KEY=VALUE[,KEY=VALUE]", field="entity")
        value = value.strip()
        entity[key.strip()] = int(value) if value.lstrip("-").isdigit() else value
    return entity


@app.command()
def online(
    features: Annotated[list[str], typer.Argument(help="VIEW or VIEW:FEATURE ...")],
    entity: Annotated[
        list[str], typer.Option("--entity", "-e", help="KEY=VALUE[,KEY=VALUE] (repeatable).")
    ],
    as_json: JsonOption = False,
) -> None:
    """Read online feature values for the given entities."""
    result = STATE.client().features.get_online_features(features, [_entity(e) for e in entity])
    emit(
        result,
        as_json,
        lambda: table(
            "Online features",
            result.columns,
            [[r.get(c) for c in result.columns] for r in result.rows],
        ),
    )


def _binding_table(info: EndpointFeatures) -> None:
    table(
        f"Features of endpoint {info.endpoint}",
        ["view", "feature", "model input", "entity keys"],
        [
            (
                s.view,
                feature,
                name,
                ", ".join(f"{k}<-{v}" for k, v in s.entities.items()),
            )
            for s in info.sources
            for feature, name in s.features.items()
        ],
    )


def _pairs(items: list[str], field: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        left, sep, right = item.partition("=")
        left, right = left.strip(), right.strip()
        if not left or (sep and not right):
            raise InvalidInput(f"{item!r} is not NAME or NAME=OTHER", field=field)
        pairs[left] = right or left
    return pairs


def _binding_file(file: Path) -> tuple[list[Any], bool]:
    import yaml

    try:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InvalidInput(f"cannot read {file}: {error}", field="file") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("sources"), list):
        raise InvalidInput("the file must hold a mapping with a 'sources' list", field="file")
    return loaded["sources"], bool(loaded.get("keep_entity_keys", False))


@app.command()
def bind(
    endpoint: str,
    file: Annotated[
        Path | None, typer.Argument(help="YAML: sources: [{view, features, entities}]")
    ] = None,
    view: Annotated[str | None, typer.Option(help="One view to bind (instead of FILE).")] = None,
    feature: Annotated[
        list[str] | None,
        typer.Option("--feature", "-f", help="FEATURE or FEATURE=MODEL_INPUT (repeatable)."),
    ] = None,
    entity: Annotated[
        list[str] | None,
        typer.Option(
            "--entity", "-e", help="KEY_COLUMN=REQUEST_FIELD when they differ (repeatable)."
        ),
    ] = None,
    keep_entity_keys: Annotated[
        bool, typer.Option("--keep-entity-keys", help="Pass key fields on to the model too.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Make ENDPOINT add online features to its requests before predicting.

    Requests then carry the entity keys and the other inputs; the served endpoint looks
    the bound features up in the online store (live: running workers reload).
    """
    if (file is None) == (view is None):
        raise InvalidInput("give a binding FILE or --view with --feature", field="file")
    sources: list[Any]
    if file is not None:
        if feature or entity:
            raise InvalidInput("--feature and --entity go with --view, not FILE", field="feature")
        sources, keep = _binding_file(file)
        keep_entity_keys = keep_entity_keys or keep
    else:
        if not feature:
            raise InvalidInput("name at least one --feature of the view", field="feature")
        sources = [
            {
                "view": view,
                "features": _pairs(feature, "feature"),
                "entities": _pairs(entity or [], "entity"),
            }
        ]
    info = STATE.client().features.bind_endpoint(
        endpoint, sources, keep_entity_keys=keep_entity_keys
    )
    emit(info, as_json, lambda: _binding_table(info))


@app.command()
def binding(endpoint: str, as_json: JsonOption = False) -> None:
    """The online features an endpoint adds to its requests."""
    info = STATE.client().features.endpoint_binding(endpoint)
    emit(info, as_json, lambda: _binding_table(info))


@app.command()
def unbind(endpoint: str, as_json: JsonOption = False) -> None:
    """Stop adding online features to an endpoint's requests."""
    info = STATE.client().features.unbind_endpoint(endpoint)
    emit(info, as_json, lambda: console.print(f"endpoint [bold]{endpoint}[/] unbound"))
