"""``shipyard endpoints``: variants and traffic weights, live settings, feedback, A/B results."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, print_json, table
from shipyard.cli._paging import (
    LimitOption,
    NameContainsOption,
    PageTokenOption,
    show_next_page,
)
from shipyard.cli._tags import TagOption, tag_pairs
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.endpoints import BanditStep, CompareReport, EndpointInfo, VariantMetrics

app = typer.Typer(
    help="Real-time endpoints: variants, traffic, settings, A/B results.", no_args_is_help=True
)


def _number(text: str, field: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a number", field=field) from None


def parse_variant(text: str) -> dict[str, Any]:
    """``NAME=MODEL@REF[:WEIGHT[:RUNTIME]]`` as a variant spec."""
    name, sep, rest = text.partition("=")
    if not sep or not name or not rest:
        raise InvalidInput(
            f"{text!r} is not NAME=MODEL@VERSION[:WEIGHT[:RUNTIME]]", field="variant"
        )
    model, *extra = rest.split(":")
    spec: dict[str, Any] = {"name": name, "model": model}
    if extra:
        spec["weight"] = _number(extra[0], f"variants.{name}.weight")
    if len(extra) > 1:
        spec["runtime"] = extra[1]
    if len(extra) > 2:
        raise InvalidInput(f"{text!r} has too many ':' parts", field="variant")
    return spec


def parse_shadow(text: str) -> dict[str, Any]:
    """``NAME=MODEL@REF[:PERCENT]`` as a shadow spec."""
    name, sep, rest = text.partition("=")
    if not sep or not name or not rest:
        raise InvalidInput(f"{text!r} is not NAME=MODEL@VERSION[:PERCENT]", field="shadow")
    model, _, percent = rest.partition(":")
    spec: dict[str, Any] = {"name": name, "model": model}
    if percent:
        spec["percent"] = _number(percent, "shadow.percent")
    return spec


def _variants_summary(e: EndpointInfo) -> str:
    parts = []
    for v in e.variants:
        share = (
            f"{v.traffic_percent:.3g}%"
            if v.role == "production"
            else f"shadow {v.shadow_percent:.3g}%"
        )
        parts.append(f"{v.name} {v.model_ref} {share}")
    return "; ".join(parts)


def _endpoints_table(items: list[EndpointInfo]) -> None:
    table(
        "Endpoints",
        ["name", "variants", "generation", "production", "rollout", "updated"],
        [
            (
                e.name,
                _variants_summary(e),
                e.generation,
                "yes" if e.production else "no",
                e.deployment or "",
                e.updated_at,
            )
            for e in items
        ],
    )


def show_endpoint(e: EndpointInfo) -> None:
    """Describe: variants with weights and shares, generation, settings, serving workers."""
    flags = ["production" if e.production else "not production", f"generation {e.generation}"]
    if e.deployment:
        flags.append(f"deployment {e.deployment} rolling out")
    console.print(f"[bold]endpoint {e.name}[/] ({', '.join(flags)})")
    table(
        "Variants",
        ["variant", "role", "model", "approval", "weight", "traffic", "shadow copies", "runtime"],
        [
            (
                v.name,
                v.role,
                v.model_ref,
                v.approval,
                v.weight if v.role == "production" else None,
                f"{v.traffic_percent:.4g}%" if v.role == "production" else None,
                f"{v.shadow_percent:.4g}%" if v.role == "shadow" else None,
                v.runtime,
            )
            for v in e.variants
        ],
    )
    settings = {"capture": e.capture, "batching": e.batching, "bandit": e.bandit}
    for key, value in settings.items():
        console.print(f"{key}: {orjson.dumps(value).decode() if value else 'off'}", highlight=False)
    if e.instances:
        table(
            "Serving workers",
            ["worker", "generation", "variants", "live", "last seen", "error"],
            [
                (
                    i.worker,
                    i.generation,
                    ", ".join(i.variants),
                    "yes" if i.live else "no",
                    f"{i.seconds_since_heartbeat:.1f} s ago",
                    i.error,
                )
                for i in e.instances
            ],
        )


@app.command("create")
def create(
    name: str,
    model: Annotated[
        str | None, typer.Option(help="MODEL@VERSION or MODEL@ALIAS, served as variant primary.")
    ] = None,
    variant: Annotated[
        list[str] | None,
        typer.Option(
            "--variant", help="NAME=MODEL@VERSION[:WEIGHT[:RUNTIME]]; repeat for several."
        ),
    ] = None,
    shadow: Annotated[
        str | None, typer.Option(help="NAME=MODEL@VERSION[:PERCENT]: a shadow variant.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML with variants, shadow, production, capture, batching.")
    ] = None,
    production: Annotated[bool, typer.Option(help="Serve Approved model versions only.")] = False,
    capture_percent: Annotated[
        float | None, typer.Option(help="Capture this % of requests.")
    ] = None,
    capture_mode: Annotated[str, typer.Option(help="input, output or both.")] = "both",
    tag: TagOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an endpoint; serve it with `shipyard serve NAME`."""
    e = STATE.client().endpoints.create(
        name,
        model,
        variants=[parse_variant(v) for v in variant] if variant else None,
        shadow=parse_shadow(shadow) if shadow else None,
        production=production,
        capture=(
            {"sampling_percent": capture_percent, "mode": capture_mode}
            if capture_percent is not None
            else None
        ),
        config=config,
        tags=tag_pairs(tag),
    )
    emit(e, as_json, lambda: show_endpoint(e))


@app.command("update")
def update(
    name: str,
    model: Annotated[str, typer.Option(help="Serve only this MODEL@VERSION from now on.")],
    as_json: JsonOption = False,
) -> None:
    """Serve one model version from now on (live; a shadow stays)."""
    e = STATE.client().endpoints.update(name, model)
    emit(e, as_json, lambda: show_endpoint(e))


@app.command("list")
def list_endpoints(
    limit: LimitOption = None,
    page_token: PageTokenOption = None,
    name_contains: NameContainsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Endpoints by name."""
    items = STATE.client().endpoints.list(
        limit=limit, page_token=page_token, name_contains=name_contains
    )
    emit(items, as_json, lambda: _endpoints_table(items))
    show_next_page(items, as_json)


@app.command("show")
def show(name: str, as_json: JsonOption = False) -> None:
    """Variants, weights, traffic shares, generation, settings and serving workers."""
    e = STATE.client().endpoints.get(name)
    emit(e, as_json, lambda: show_endpoint(e))


@app.command("delete")
def delete(name: str, as_json: JsonOption = False) -> None:
    e = STATE.client().endpoints.delete(name)
    emit(e, as_json, lambda: console.print(f"deleted endpoint {e.name}"))


@app.command("delete-captures")
def delete_captures(
    name: str,
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit).")],
    before: Annotated[
        datetime | None,
        typer.Option(help="Only whole hours ending by this UTC time, e.g. 2026-12-01T00:00."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Delete an endpoint's captured requests and purge their files."""
    from shipyard.cli._registry import show_deletion

    done = STATE.client().endpoints.delete_captures(name, reason=reason, before=before)
    emit(done, as_json, lambda: show_deletion(done))


@app.command("set-weights")
def set_weights(
    name: str,
    weights: Annotated[
        list[str], typer.Argument(help="VARIANT=WEIGHT, e.g. primary=90 challenger=10")
    ],
    as_json: JsonOption = False,
) -> None:
    """Set variants' traffic weights, live (share = weight / sum of weights)."""
    parsed: dict[str, float] = {}
    for pair in weights:
        variant, sep, value = pair.partition("=")
        if not sep or not variant:
            raise InvalidInput(f"{pair!r} is not VARIANT=WEIGHT", field="weights")
        parsed[variant] = _number(value, f"weights.{variant}")
    e = STATE.client().endpoints.set_weights(name, parsed)
    emit(e, as_json, lambda: show_endpoint(e))


@app.command("add-variant")
def add_variant(
    name: str,
    variant: str,
    model: Annotated[str, typer.Option(help="MODEL@VERSION or MODEL@ALIAS.")],
    weight: Annotated[float, typer.Option(help="Traffic weight (0: loaded, no traffic).")] = 0.0,
    runtime: Annotated[str, typer.Option(help="native or onnx.")] = "native",
    shadow_percent: Annotated[
        float | None, typer.Option(help="Make it a shadow getting this % of request copies.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a variant (or a shadow) to an endpoint, live."""
    e = STATE.client().endpoints.add_variant(
        name, variant, model, weight=weight, runtime=runtime, shadow_percent=shadow_percent
    )
    emit(e, as_json, lambda: show_endpoint(e))


@app.command("remove-variant")
def remove_variant(name: str, variant: str, as_json: JsonOption = False) -> None:
    """Remove a variant from an endpoint, live."""
    e = STATE.client().endpoints.remove_variant(name, variant)
    emit(e, as_json, lambda: show_endpoint(e))


@app.command("configure")
def configure(
    name: str,
    production: Annotated[
        bool | None, typer.Option("--production/--no-production", help="Approved versions only.")
    ] = None,
    capture: Annotated[
        bool | None, typer.Option("--capture/--no-capture", help="Data capture on or off.")
    ] = None,
    capture_percent: Annotated[
        float | None, typer.Option(help="Capture this % of requests.")
    ] = None,
    capture_mode: Annotated[str | None, typer.Option(help="input, output or both.")] = None,
    batching: Annotated[
        bool | None, typer.Option("--batching/--no-batching", help="Micro-batching on or off.")
    ] = None,
    max_batch_size: Annotated[int | None, typer.Option(help="Largest merged batch.")] = None,
    max_wait_ms: Annotated[float | None, typer.Option(help="Longest added wait (ms).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change the production flag, data capture or micro-batching, live."""
    client = STATE.client()
    current = client.endpoints.get(name)
    capture_doc = _merged(
        current.capture,
        {"enabled": capture, "sampling_percent": capture_percent, "mode": capture_mode},
    )
    batching_doc = _merged(
        current.batching,
        {"enabled": batching, "max_batch_size": max_batch_size, "max_wait_ms": max_wait_ms},
    )
    e = client.endpoints.configure(
        name, production=production, capture=capture_doc, batching=batching_doc
    )
    emit(e, as_json, lambda: show_endpoint(e))


def _merged(current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any] | None:
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        return None
    return {k: v for k, v in current.items() if k in given} | changes


def _feedback_records(path: Path) -> Iterator[dict[str, Any]]:
    """JSON Lines of {"request_id", "label"}, or CSV with request_id and label columns."""
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist or is not a file", field="file")
    with path.open(newline="") as handle:
        if path.suffix.lower() == ".csv":
            for row in csv.DictReader(handle):
                if "request_id" not in row or "label" not in row:
                    raise InvalidInput("the CSV needs request_id and label columns", field="file")
                yield {"request_id": row["request_id"], "label": row["label"]}
            return
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise InvalidInput(f"line {number} is not JSON", field="file") from None


@app.command("feedback")
def feedback(
    name: str,
    file: Annotated[Path, typer.Argument(help="JSON Lines {request_id, label} or CSV.")],
    as_json: JsonOption = False,
) -> None:
    """Post ground-truth labels for answered requests (by their X-Request-Id)."""
    receipt = STATE.client().endpoints.feedback(name, _feedback_records(file))
    emit(
        receipt,
        as_json,
        lambda: console.print(
            f"{receipt.accepted} labels stored for {name} ({receipt.replaced} replaced)"
        ),
    )


def _ms(value: float | None) -> str | None:
    return None if value is None else f"{value:.3g} ms"


def _live_cells(m: VariantMetrics) -> tuple[Any, ...]:
    rate = None if m.error_rate is None else f"{100 * m.error_rate:.3g}%"
    return (m.requests, rate, _ms(m.p50_latency_ms), _ms(m.p95_latency_ms), _ms(m.p99_latency_ms))


def show_compare(report: CompareReport) -> None:
    window = f"since {report.since:%Y-%m-%d %H:%M:%S}" if report.since else "all time"
    console.print(f"[bold]A/B results of {report.endpoint}[/] ({window})")
    level = f"{report.confidence:.0%}"
    rows = []
    for v in report.variants:
        quality = None
        if v.quality:
            q = v.quality
            quality = f"{q.value:.4g} [{q.ci_low:.4g}, {q.ci_high:.4g}] n={q.n}"
        agreement = v.live.shadow_agreement
        rows.append(
            (
                v.name,
                v.role or "(removed)",
                v.model_ref,
                None if v.traffic_percent is None else f"{v.traffic_percent:.3g}%",
                *_live_cells(v.live),
                None if agreement is None else f"{agreement:.1%}",
                quality,
            )
        )
    table(
        None,
        [
            "variant",
            "role",
            "model",
            "traffic",
            "requests",
            "errors",
            "p50",
            "p95",
            "p99",
            "shadow agrees",
            f"{report.metric} ({level} CI)",
        ],
        rows,
    )
    for c in report.comparisons:
        console.print(
            f"{c.variant} vs {c.baseline}: {c.difference:+.4g} {c.metric} "
            f"[{c.ci_low:+.4g}, {c.ci_high:+.4g}], {c.test}: {c.statement}",
            highlight=False,
            markup=False,
        )
    if report.note:
        console.print(f"[dim]{report.note}[/]")


@app.command("compare")
def compare(
    name: str,
    since: Annotated[str | None, typer.Option(help="Only the last 1h, 30m, 600s ...")] = None,
    confidence: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.95,
    as_json: JsonOption = False,
) -> None:
    """Per variant: requests, error rate, latency p50/p95/p99, and quality with significance."""
    report = STATE.client().endpoints.compare(name, since=since, confidence=confidence)
    emit(report, as_json, lambda: show_compare(report))


def _show_step(step: BanditStep) -> None:
    table(
        f"Bandit step on {step.endpoint} (generation {step.generation})",
        ["variant", "correct", "wrong", "posterior mean", "P(best)", "weight"],
        [
            (a.variant, a.successes, a.failures, a.posterior_mean, a.probability_best, a.weight)
            for a in step.arms
        ],
    )


@app.command("bandit")
def bandit(
    name: str,
    enable: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Turn bandit mode on or off.")
    ] = None,
    interval: Annotated[str, typer.Option(help="How often --follow recomputes weights.")] = "60s",
    min_percent: Annotated[float, typer.Option(help="Exploration floor per variant (%).")] = 5.0,
    step: Annotated[bool, typer.Option("--step", help="Recompute and set weights once.")] = False,
    follow: Annotated[
        bool, typer.Option("--follow", help="Recompute every interval until Ctrl+C.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Thompson-sampling bandit: shift traffic toward the variant that feedback says is better."""
    client = STATE.client()
    if enable is not None:
        e = client.endpoints.bandit(
            name, enabled=enable, interval=interval, min_percent=min_percent
        )
        emit(
            e, as_json, lambda: console.print(f"bandit mode {'on' if enable else 'off'} for {name}")
        )
    if step or follow:
        while True:
            result = client.endpoints.bandit_step(name)
            if as_json:
                print_json(result)
            else:
                _show_step(result)
            if not follow:
                return
            time.sleep(float(client.endpoints.get(name).bandit.get("interval_seconds", 60)))
    if enable is None and not step:
        raise InvalidInput("give --enable, --disable, --step or --follow", field="bandit")
