"""``shipyard deploy`` and ``shipyard deployments``: guarded rollouts, their history, rollback."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, print_json, table
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.deploy import DeploymentEvent, DeploymentInfo

deployments_app = typer.Typer(help="Guarded rollouts: list, inspect, resume.", no_args_is_help=True)

_COLORS = {"succeeded": "green", "rolled_back": "red", "failed": "red", "alarm": "red"}


def print_event(entry: DeploymentEvent) -> None:
    color = _COLORS.get(entry.event, "cyan")
    weights = " ".join(f"{k}={v:.4g}" for k, v in entry.weights.items())
    console.print(
        f"{entry.time:%H:%M:%S} [{color}]{entry.event:<12}[/] {entry.note}"
        + (f" [dim]({weights})[/]" if weights and entry.event != "baked" else ""),
        highlight=False,
    )


def progress_text(info: DeploymentInfo) -> str:
    p = info.progress
    if p is None:
        return info.status
    if p.phase == "warming":
        return f"waiting for serving workers to load {info.to_variant} ({p.elapsed_seconds:.0f} s)"
    m = p.metrics
    live = ""
    if m is not None:
        rate = "n/a" if m.error_rate is None else f"{100 * m.error_rate:.3g}%"
        p99 = "n/a" if m.p99_latency_ms is None else f"{m.p99_latency_ms:.3g} ms"
        live = f" · {m.requests} requests, errors {rate}, p99 {p99}"
    return (
        f"step {p.step + 1}/{p.steps} at {p.percent:g}% · baking "
        f"{min(p.elapsed_seconds, p.bake_seconds):.0f}/{p.bake_seconds:.0f} s{live}"
    )


def _outcome(info: DeploymentInfo) -> None:
    if info.status == "succeeded":
        console.print(
            f"[green]deployment {info.id} succeeded[/]: {info.to_variant} serves {info.endpoint}"
        )
    else:
        console.print(f"[red]deployment {info.id} {info.status}[/]: {info.reason}", highlight=False)


def deploy(
    name: Annotated[str, typer.Argument(help="Endpoint name.")],
    model: Annotated[
        str | None, typer.Option(help="MODEL@VERSION or MODEL@ALIAS to roll out.")
    ] = None,
    strategy: Annotated[str, typer.Option(help="canary, linear or all-at-once.")] = "canary",
    canary_percent: Annotated[float, typer.Option(help="Canary step share (%).")] = 10.0,
    step_percent: Annotated[float, typer.Option(help="Linear step size (%).")] = 25.0,
    bake: Annotated[str, typer.Option(help="Bake time of each step: 60s, 5m ...")] = "60s",
    rollback_on: Annotated[
        str, typer.Option(help='Alarm, e.g. "error_rate>1% or p99_latency>50ms".')
    ] = "",
    variant: Annotated[
        str | None, typer.Option(help="Name of the new variant (default MODEL-vVERSION).")
    ] = None,
    runtime: Annotated[str, typer.Option(help="native or onnx.")] = "native",
    health_timeout: Annotated[
        str, typer.Option(help="How long serving workers may take to load it.")
    ] = "60s",
    min_requests: Annotated[
        int, typer.Option(help="Requests a datapoint needs before error rate or latency is judged.")
    ] = 50,
    alarm_periods: Annotated[int, typer.Option(help="N: datapoints the alarm looks at.")] = 1,
    alarm_datapoints: Annotated[
        int | None, typer.Option(help="M: tripping datapoints that roll back (default N).")
    ] = None,
    alarm_period: Annotated[
        str, typer.Option(help="Length of a datapoint when N > 1 (default 10s).")
    ] = "10s",
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Drive the rollout in a worker process.")
    ] = False,
    rollback: Annotated[
        bool, typer.Option("--rollback", help="Back to the previous configuration at once.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Roll a model version out onto endpoint NAME in baked, alarmed steps (blue/green)."""
    client = STATE.client()
    if rollback:
        done = client.deployments.rollback(name)
        emit(done, as_json, lambda: console.print(f"endpoint {name}: {done.history[-1].note}"))
        return
    if model is None:
        raise InvalidInput("give --model MODEL@VERSION (or --rollback)", field="model")
    run = functools.partial(
        client.deployments.deploy,
        name,
        model,
        strategy=strategy,
        canary_percent=canary_percent,
        step_percent=step_percent,
        bake=bake,
        rollback_on=rollback_on,
        variant=variant,
        runtime=runtime,
        health_timeout=health_timeout,
        min_requests=min_requests,
        alarm_periods=alarm_periods,
        alarm_datapoints=alarm_datapoints,
        alarm_period=alarm_period,
    )
    if no_wait:
        started = run(wait=False)
        emit(
            started,
            as_json,
            lambda: console.print(
                f"deployment [bold]{started.id}[/] started in a worker process; "
                f"follow it with `shipyard deployments show {started.id} --follow`"
            ),
        )
        return
    if as_json:
        print_json(run())
        return
    started_id: list[str] = []
    with console.status("starting rollout") as status:

        def on_progress(info: DeploymentInfo) -> None:
            started_id[:] = [info.id]
            status.update(progress_text(info))

        try:
            done = run(on_event=print_event, on_progress=on_progress)
        except KeyboardInterrupt:
            status.stop()
            _interrupted(name, started_id)
            raise typer.Exit(130) from None
    _outcome(done)
    if done.status != "succeeded":
        raise typer.Exit(1)


def _interrupted(endpoint: str, started: list[str]) -> None:
    if not started:
        console.print("interrupted before the rollout started")
        return
    console.print(
        f"controller stopped; deployment {started[0]} stays where it is. Resume it with "
        f"`shipyard deployments resume {started[0]} --force` or undo it with "
        f"`shipyard deploy --rollback {endpoint}`"
    )


def _deployments_table(items: list[DeploymentInfo]) -> None:
    table(
        "Deployments",
        ["id", "endpoint", "strategy", "model", "status", "step", "reason", "created"],
        [
            (
                d.id,
                d.endpoint,
                d.strategy,
                d.model,
                d.status,
                progress_text(d) if d.status == "running" else None,
                d.reason,
                d.created_at,
            )
            for d in items
        ],
    )


def show_deployment(d: DeploymentInfo) -> None:
    console.print(
        f"[bold]deployment {d.id}[/] on {d.endpoint}: {d.strategy} rollout of {d.model} "
        f"as {d.to_variant or '-'}: [bold]{d.status}[/]",
        highlight=False,
    )
    if d.steps:
        steps = ", ".join(f"{s:g}%" for s in d.steps)
        console.print(
            f"steps {steps}; bake {d.bake_seconds:g} s; rollback on {d.rollback_on or '-'}",
            highlight=False,
            markup=False,
        )
    if d.status == "running":
        idle = d.seconds_since_heartbeat or 0.0
        console.print(f"now: {progress_text(d)} (controller last ticked {idle:.1f} s ago)")
    if d.reason:
        console.print(f"reason: {d.reason}", highlight=False, markup=False)
    rows = []
    for e in d.history:
        m = e.metrics or {}
        rate = m.get("error_rate")
        rows.append(
            (
                e.time,
                e.event,
                None if e.step is None else e.step + 1,
                " ".join(f"{k}={v:.4g}" for k, v in e.weights.items()),
                m.get("requests"),
                None if rate is None else f"{100 * rate:.3g}%",
                m.get("p99_latency_ms"),
                e.note,
            )
        )
    table(
        "History",
        ["time", "event", "step", "weights", "requests", "errors", "p99 ms", "note"],
        rows,
    )


@deployments_app.command("list")
def list_deployments(
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint's.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Rollouts, newest first."""
    items = STATE.client().deployments.list(endpoint, limit)
    emit(items, as_json, lambda: _deployments_table(items))


@deployments_app.command("show")
def show(
    deployment_id: str,
    follow: Annotated[
        bool, typer.Option("--follow", help="Stream its steps until it ends.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """A rollout's plan, every step with its metrics, and where it is now."""
    client = STATE.client()
    d = client.deployments.get(deployment_id)
    if follow and not d.done and not as_json:
        for entry in d.history:
            print_event(entry)
        with console.status(progress_text(d)) as status:
            d = client.deployments.follow(
                deployment_id,
                on_event=print_event,
                on_progress=lambda info: status.update(progress_text(info)),
                seen=len(d.history),
            )
        _outcome(d)
        return
    emit(d, as_json, lambda: show_deployment(d))


@deployments_app.command("resume")
def resume(
    deployment_id: str,
    wait: Annotated[
        bool, typer.Option("--wait", help="Drive it from here instead of a worker process.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Even if its controller ticked in the last 15 s.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Take over a running rollout whose controller stopped."""
    client = STATE.client()
    if not wait or as_json:
        d = client.deployments.resume(deployment_id, wait=wait, force=force)
        emit(d, as_json, lambda: console.print(f"deployment {d.id} resumed in a worker process"))
        return
    with console.status("resuming") as status:
        d = client.deployments.resume(
            deployment_id,
            wait=True,
            force=force,
            on_event=print_event,
            on_progress=lambda info: status.update(progress_text(info)),
        )
    _outcome(d)
