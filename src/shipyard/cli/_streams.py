"""``shipyard streams``: create stream specs, send records, run a consumer, follow commits."""

from __future__ import annotations

import gc
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, errors, table
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.streams import StreamInfo

if TYPE_CHECKING:
    from shipyard.streams import CommitResult

app = typer.Typer(help="Streaming ingestion into versioned datasets.", no_args_is_help=True)


@app.command()
def create(
    spec: Annotated[Path, typer.Argument(help="YAML file with the stream's spec.")],
    as_json: JsonOption = False,
) -> None:
    """Create a stream from SPEC, or a new version of it (an unchanged spec keeps its version)."""
    info = STATE.client().streams.create(spec)
    emit(info, as_json, lambda: _show(info))


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Every stream with its source, target and counters."""
    items = STATE.client().streams.list()
    emit(
        items,
        as_json,
        lambda: table(
            "Streams",
            ["name", "version", "source", "dataset", "commits", "committed", "rejected", "last"],
            [
                (
                    s.name,
                    s.version,
                    s.spec.source.kind,
                    s.spec.dataset,
                    s.commits,
                    s.committed_records,
                    s.rejected_records,
                    s.last_commit_at,
                )
                for s in items
            ],
        ),
    )


@app.command()
def show(
    name: str,
    version: Annotated[int | None, typer.Option(help="A spec version (default: latest).")] = None,
    as_json: JsonOption = False,
) -> None:
    """A stream's spec and counters."""
    info = STATE.client().streams.get(name, version)
    emit(info, as_json, lambda: _show(info))


def _show(info: StreamInfo) -> None:
    spec = info.spec
    verb = "created" if info.created else "version"
    console.print(
        f"[bold]{info.name}[/] {verb} {info.version}: {spec.source.kind} -> dataset "
        f"[bold]{spec.dataset}[/], commit every {spec.commit_every_records} records or "
        f"{spec.commit_every_seconds:g} s; id {spec.id_field!r}"
        + (f", key {spec.key_field!r}" if spec.key_field else "")
    )
    console.print(
        f"{info.commits} commits, {info.committed_records} records committed, "
        f"{info.rejected_records} rejected, {info.duplicate_records} duplicates dropped"
    )
    table(
        "Schema",
        ["field", "type", "nullable"],
        [(n, t, "yes" if n in spec.nullable else "") for n, t in spec.fields.items()],
    )


@app.command()
def put(
    name: str,
    file: Annotated[Path, typer.Argument(help="JSON Lines file, one record per line.")],
    key: Annotated[str | None, typer.Option(help="Partition key for every record.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Send the records of FILE to stream NAME; invalid lines are reported, not sent."""
    result = STATE.client().streams.put_file(name, file, partition_key=key)

    def show_result() -> None:
        console.print(f"{result.accepted} accepted, {result.rejected} rejected")
        if result.rejections:
            table(
                "Rejected", ["line", "reason"], [(r.index + 1, r.reason) for r in result.rejections]
            )

    emit(result, as_json, show_result)


@app.command()
def commits(
    name: str,
    after: Annotated[int, typer.Option(help="Only commits after this sequence number.")] = 0,
    limit: Annotated[int, typer.Option()] = 100,
    as_json: JsonOption = False,
) -> None:
    """The stream's commits: one Parquet partition each."""
    items = STATE.client().streams.commits(name, after_seq=after, limit=limit)
    emit(
        items,
        as_json,
        lambda: table(
            f"Commits of {name}",
            ["seq", "rows", "rejected", "duplicates", "bytes", "offsets", "dataset", "at"],
            [
                (
                    c.seq,
                    c.rows,
                    c.rejected,
                    c.duplicates,
                    c.size_bytes,
                    f"{c.first_offset}..{c.last_offset}",
                    c.dataset if c.dataset_version is None else f"{c.dataset}@{c.dataset_version}",
                    c.created_at,
                )
                for c in items
            ],
        ),
    )


@app.command()
def rejections(
    name: str, limit: Annotated[int, typer.Option()] = 20, as_json: JsonOption = False
) -> None:
    """The latest records the stream refused, and why."""
    items = STATE.client().streams.rejections(name, limit=limit)
    emit(
        items,
        as_json,
        lambda: table(
            f"Rejected records of {name}",
            ["source", "offset", "reason", "record", "at"],
            [(r.source, r.offset, r.reason, r.excerpt, r.created_at) for r in items],
        ),
    )


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl+C or SIGTERM asks for a clean stop (commit the buffer, then exit)."""

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        errors.print("stopping: committing what is buffered (Ctrl+C again to abort)")
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@app.command()
def consume(
    name: str,
    consumer: Annotated[
        str | None, typer.Option(help="Consumer name (default: host name and stream).")
    ] = None,
    idle_exit: Annotated[
        float | None, typer.Option(help="Stop after this many seconds with no new records.")
    ] = None,
    max_records: Annotated[
        int | None, typer.Option(help="Stop after receiving this many records.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run a consumer of stream NAME in the foreground; Ctrl+C commits the buffer and stops."""
    if STATE.url or STATE.settings.url:
        raise InvalidInput("a consumer runs next to the stores; drop --url", field="url")
    from shipyard.platform import Platform
    from shipyard.security import ADMIN, bootstrap, context_for
    from shipyard.streams import consume as consume_stream

    platform = Platform.open(STATE.settings)
    stop = threading.Event()

    def report(result: CommitResult) -> None:
        if result.info is not None and not as_json:
            console.print(
                f"commit {result.info.seq}: {result.rows} rows, {result.rejected} rejected, "
                f"{result.duplicates} duplicates dropped"
            )

    try:
        bootstrap(platform)
        ctx = context_for(platform, ADMIN)
        # The loop allocates per record; start-up objects need no more collection passes.
        gc.freeze()
        with _stop_on_signals(stop):
            summary = consume_stream(
                ctx,
                name,
                consumer=consumer,
                stop=stop,
                idle_exit=idle_exit,
                max_records=max_records,
                on_commit=report,
            )
    finally:
        platform.close()
    emit(
        summary,
        as_json,
        lambda: console.print(
            f"{summary.stopped}: {summary.received} received, {summary.committed} committed "
            f"in {summary.commits} commits, {summary.rejected} rejected, "
            f"{summary.duplicates} duplicates dropped"
        ),
    )
