"""``shipyard logs``: this machine's structured logs, filtered; ``--follow`` to keep reading."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.clock import parse_since
from shipyard.errors import InvalidInput


def logs(
    resource: Annotated[
        str | None,
        typer.Option(help="Only lines about this resource (sy:endpoint/e, sy:training-job/ID)."),
    ] = None,
    level: Annotated[
        str, typer.Option(help="Lowest level: debug, info, warning, error.")
    ] = "debug",
    since: Annotated[
        str | None, typer.Option(help="Only lines from this far back (30m, 1h, 7d) or time.")
    ] = None,
    component: Annotated[
        list[str] | None,
        typer.Option(help="server, serving, jobs or scheduler (repeat for several)."),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show the JSON logs every server and job writes under <home>/logs (this machine's)."""
    if STATE.url:
        raise InvalidInput(
            "shipyard logs reads this machine's log files (<home>/logs), not a server's; "
            "run it where the server runs",
            field="url",
        )
    from shipyard.logs import COMPONENTS, LogFilter, follow_logs, read_logs

    components = tuple(component or COMPONENTS)
    for name in components:
        if name not in COMPONENTS:
            raise InvalidInput(f"must be one of {', '.join(COMPONENTS)}", field="component")
    which = LogFilter(
        level=level.upper(),
        since=parse_since(since) if since else None,
        resource=resource,
    )
    settings = STATE.settings
    for line in read_logs(settings, which, components):
        _show(line, as_json)
    if follow:
        try:
            for line in follow_logs(settings, which, components):
                _show(line, as_json)
        except KeyboardInterrupt:
            return


def _show(line: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
    else:
        extra = " ".join(
            f"{key}={line[key]}"
            for key in ("request_id", "job_id", "resource", "principal")
            if key in line
        )
        text = " ".join(
            str(part)
            for part in (
                line.get("time", ""),
                f"{line.get('level', ''):<7}",
                line.get("component", ""),
                line.get("logger", ""),
                line.get("message", ""),
            )
        )
        sys.stdout.write(text + (f"  [{extra}]" if extra else "") + "\n")
        if "error" in line:
            sys.stdout.write(str(line["error"]) + "\n")
    sys.stdout.flush()
