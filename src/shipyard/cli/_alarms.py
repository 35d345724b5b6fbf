"""``shipyard alarms create|list|show|history|evaluate|delete``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table
from shipyard.cli._paging import LimitOption, PageTokenOption, show_next_page
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.alarms import AlarmInfo

app = typer.Typer(
    help="Alarms on monitor and endpoint metrics: OK, ALARM, INSUFFICIENT_DATA.",
    no_args_is_help=True,
)
_COLORS = {"OK": "green", "ALARM": "red", "INSUFFICIENT_DATA": "yellow"}


def _state(state: str) -> str:
    return f"[{_COLORS.get(state, 'white')}]{state}[/]"


def _actions(
    webhooks: list[str],
    secret_file: Path | None,
    rollback: list[str],
    pipelines: list[str],
    params: list[str],
    on_ok: bool,
) -> list[dict[str, Any]]:
    on = ["ALARM", "OK"] if on_ok else ["ALARM"]
    secret = ""
    if secret_file is not None:
        try:
            secret = secret_file.read_text().strip()
        except OSError as error:
            raise InvalidInput(
                f"cannot read: {error.strerror}", field="webhook_secret_file"
            ) from None
    parameters: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{item!r} is not KEY=VALUE", field="param")
        parameters[key] = value
    found: list[dict[str, Any]] = [
        {"kind": "webhook", "url": url, "secret": secret, "on": on} for url in webhooks
    ]
    found += [{"kind": "rollback", "endpoint": e, "on": ["ALARM"]} for e in rollback]
    found += [
        {"kind": "pipeline", "pipeline": p, "parameters": parameters, "on": ["ALARM"]}
        for p in pipelines
    ]
    return found


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Alarm name.")],
    source: Annotated[str, typer.Option(help="endpoint:NAME or monitor:NAME.")],
    metric: Annotated[
        str, typer.Option(help="e.g. error_rate, p99_latency@blue, drift_share, quality.accuracy.")
    ],
    threshold: Annotated[float, typer.Option(help="The threshold (error rate as a fraction).")],
    comparison: Annotated[str, typer.Option(help="> >= < <=")] = ">",
    period: Annotated[str, typer.Option(help="Length of one datapoint: 1m, 5m, 1h.")] = "5m",
    periods: Annotated[int, typer.Option(help="N: datapoints evaluated.")] = 1,
    datapoints: Annotated[
        int | None, typer.Option(help="M: breaching datapoints to alarm (default N).")
    ] = None,
    min_samples: Annotated[
        int | None,
        typer.Option(
            help="Samples under which a datapoint is missing (default 30 requests "
            "for endpoint rates and latencies, else 1)."
        ),
    ] = None,
    treat_missing: Annotated[
        str, typer.Option(help="missing, ignore, breaching or not_breaching.")
    ] = "missing",
    webhook: Annotated[list[str], typer.Option(help="POST transitions to this URL.")] = [],  # noqa: B006
    webhook_secret_file: Annotated[
        Path | None, typer.Option(help="File holding the webhook signing secret.")
    ] = None,
    rollback: Annotated[
        list[str], typer.Option(help="Roll back the running deployment of this endpoint.")
    ] = [],  # noqa: B006
    pipeline: Annotated[list[str], typer.Option(help="Start a run of this pipeline.")] = [],  # noqa: B006
    param: Annotated[list[str], typer.Option(help="Pipeline parameter KEY=VALUE.")] = [],  # noqa: B006
    on_ok: Annotated[bool, typer.Option("--on-ok", help="Webhooks also on back to OK.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create or replace an alarm."""
    actions = _actions(webhook, webhook_secret_file, rollback, pipeline, param, on_ok)
    info = STATE.client().alarms.put(
        name,
        source,
        metric,
        comparison,
        threshold,
        period=period,
        evaluation_periods=periods,
        datapoints_to_alarm=datapoints,
        min_samples=min_samples,
        treat_missing=treat_missing,
        actions=actions,
    )
    emit(info, as_json, lambda: _show(info))


def _show(info: AlarmInfo) -> None:
    console.print(f"alarm {info.name}: {_state(info.state)} {info.state_reason}", highlight=False)
    console.print(
        f"  {info.source} {info.metric} {info.comparison} {info.threshold:g}, "
        f"{info.datapoints_to_alarm} of {info.evaluation_periods} datapoints of "
        f"{info.period_seconds:g} s, at least {info.min_samples} samples each, "
        f"missing data: {info.treat_missing}",
        highlight=False,
    )
    for action in info.actions:
        target = action.get("url") or action.get("endpoint") or action.get("pipeline")
        console.print(f"  on {'/'.join(action['on'])}: {action['kind']} {target}", highlight=False)


@app.command("list")
def list_(
    state: Annotated[str | None, typer.Option(help="Only alarms in this state.")] = None,
    limit: LimitOption = None,
    page_token: PageTokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Alarms and their states (or one page: --limit, --page-token)."""
    found = STATE.client().alarms.list(state=state, limit=limit, page_token=page_token)
    emit(
        found,
        as_json,
        lambda: table(
            None,
            ["name", "state", "source", "rule", "since"],
            [
                (
                    a.name,
                    _state(a.state),
                    a.source,
                    f"{a.metric} {a.comparison} {a.threshold:g} "
                    f"({a.datapoints_to_alarm}/{a.evaluation_periods} x {a.period_seconds:g}s)",
                    f"{a.state_updated_at:%Y-%m-%d %H:%M:%S}",
                )
                for a in found
            ],
        ),
    )
    show_next_page(found, as_json)


@app.command("show")
def show(name: str, as_json: JsonOption = False) -> None:
    """One alarm: its rule, actions and state."""
    info = STATE.client().alarms.get(name)
    emit(info, as_json, lambda: _show(info))


@app.command("history")
def history(
    name: str,
    limit: Annotated[int, typer.Option(help="How many entries.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """State changes and action outcomes, newest first."""
    entries = STATE.client().alarms.history(name, limit=limit)

    def show_entries() -> None:
        for e in entries:
            change = (
                f"{e.old_state} -> {_state(e.new_state)} " if e.new_state and e.old_state else ""
            )
            console.print(f"{e.time:%Y-%m-%d %H:%M:%S} {e.kind:<7} {change}{e.reason}")

    emit(entries, as_json, show_entries)


@app.command("evaluate")
def evaluate(name: str, as_json: JsonOption = False) -> None:
    """Evaluate now instead of at the end of the period."""
    info = STATE.client().alarms.evaluate(name)
    emit(info, as_json, lambda: _show(info))


@app.command("delete")
def delete(name: str, as_json: JsonOption = False) -> None:
    """Delete an alarm and its history."""
    info = STATE.client().alarms.delete(name)
    emit(info, as_json, lambda: console.print(f"deleted alarm {info.name}"))
