"""The ``shipyard`` command: one Typer app; errors end as one line and a non-zero exit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from shipyard import __version__
from shipyard.cli._context import STATE
from shipyard.cli._lazy import LazyCommand, LazyGroup
from shipyard.cli._output import errors
from shipyard.errors import ShipyardError

if "httpx" not in sys.modules:
    # httpx loads its own command line (click, pygments) when it can; no command here runs
    # it, and a missing module is the switch httpx itself offers
    sys.modules["httpx._main"] = None  # type: ignore[assignment]

_CLI = "shipyard.cli."

COMMANDS: dict[str, LazyCommand] = {
    "init": LazyCommand(
        _CLI + "_servers:init",
        "Create the Shipyard home and the bootstrap admin, and print the admin's API key once.",
    ),
    "server": LazyCommand(
        _CLI + "_servers:server", "Run the REST control plane (OpenAPI at /api/v1/openapi.json)."
    ),
    "serve": LazyCommand(
        _CLI + "_servers:serve",
        "Serve an endpoint: /invocations, /v2 (Open Inference Protocol), /feedback, /metrics.",
    ),
    "scheduler": LazyCommand(
        _CLI + "_scheduler:scheduler",
        "Run scheduled windows in the foreground until Ctrl+C (beside servers sharing the DB).",
    ),
    "quickstart": LazyCommand(
        _CLI + "_quickstart:quickstart",
        "Ingest bundled data, train two models, register the better as champion, and serve it.",
    ),
    "cost": LazyCommand(
        _CLI + "_cost:cost",
        "What jobs (training, tuning, batch, AutoML) and endpoints cost, priced with the\n"
        "settings' price_cpu_hour and price_gb_hour (only resources you may describe).",
    ),
    "logs": LazyCommand(
        _CLI + "_logs:logs",
        "Show the JSON logs every server and job writes under <home>/logs (this machine's).",
    ),
    "train": LazyCommand(
        _CLI + "_training:train",
        "Train a model from SPEC in a worker process, streaming its log and progress.",
    ),
    "batch-transform": LazyCommand(
        _CLI + "_batch:batch_transform",
        "Score a dataset version with a model into a new dataset version, in chunks.",
    ),
    "export-edge": LazyCommand(
        _CLI + "_edge:export_edge",
        "Convert REF to ONNX, check parity with the original, and write a runnable package.",
    ),
    "import-edge": LazyCommand(
        _CLI + "_edge:import_edge",
        "Unpack an edge package safely, checking every file against its manifest.",
    ),
    "validate": LazyCommand(
        _CLI + "_contracts:validate",
        "Validate a dataset version against a contract; exit 1 when an error check fails.",
    ),
    "evaluate": LazyCommand(
        _CLI + "_evaluation:evaluate",
        "Evaluate REF on labelled data: metrics with intervals, curves, an HTML report; with\n"
        "thresholds, exit 1 when the version does not meet them.",
    ),
    "deploy": LazyCommand(
        _CLI + "_deploy:deploy",
        "Roll a model version out onto endpoint NAME in baked, alarmed steps (blue/green).",
    ),
    "datasets": LazyCommand(_CLI + "_datasets:app", "Ingest and inspect versioned datasets."),
    "contracts": LazyCommand(_CLI + "_contracts:app", "Suggest, apply and inspect data contracts."),
    "features": LazyCommand(
        _CLI + "_features:app", "Feature views, training sets and online features."
    ),
    "streams": LazyCommand(_CLI + "_streams:app", "Streaming ingestion into versioned datasets."),
    "transforms": LazyCommand(
        _CLI + "_transforms:app",
        "Versioned SQL (DuckDB/Spark) or Python steps from dataset versions to new ones.",
    ),
    "jobs": LazyCommand(_CLI + "_training:jobs_app", "Inspect and cancel training jobs."),
    "tune": LazyCommand(
        _CLI + "_tuning:tune_app",
        "Tune a training spec's parameters: shipyard tune SPEC.yaml, then best, trials, report.",
    ),
    "pipelines": LazyCommand(
        _CLI + "_pipelines:app", "Pipelines: DAGs of steps with caching, conditions and triggers."
    ),
    "batch-jobs": LazyCommand(_CLI + "_batch:jobs_app", "Inspect and cancel batch transform jobs."),
    "automl": LazyCommand(
        _CLI + "_automl:app",
        "Search model families under a wall-time budget: shipyard automl DATASET@V --target COL "
        "--budget 10m; then inspect jobs and their leaderboards.",
    ),
    "experiments": LazyCommand(_CLI + "_registry:experiments_app", "Experiments and their runs."),
    "runs": LazyCommand(
        _CLI + "_runs:runs_app", "Tracked runs: search, show, compare, delete, restore, purge."
    ),
    "models": LazyCommand(_CLI + "_registry:models_app", "The model registry."),
    "evaluations": LazyCommand(
        _CLI + "_evaluation:evaluations_app", "Stored evaluations of model versions."
    ),
    "endpoints": LazyCommand(
        _CLI + "_endpoints:app",
        "Real-time endpoints: variants, traffic, settings, A/B results.",
        extra=(("recommend", _CLI + "_cost:recommend"),),
    ),
    "monitors": LazyCommand(
        _CLI + "_monitors:app",
        "Monitors: drift, quality and estimated performance of an endpoint's traffic.",
    ),
    "deployments": LazyCommand(
        _CLI + "_deploy:deployments_app", "Guarded rollouts: list, inspect, resume."
    ),
    "retention": LazyCommand(
        _CLI + "_retention:app", "Retention rules for captures, dataset versions and deleted runs."
    ),
    "alarms": LazyCommand(
        _CLI + "_alarms:app",
        "Alarms on monitor and endpoint metrics: OK, ALARM, INSUFFICIENT_DATA.",
    ),
    "principals": LazyCommand(_CLI + "_iam:principals_app", "Users and service principals."),
    "keys": LazyCommand(_CLI + "_iam:keys_app", "API keys."),
    "policies": LazyCommand(_CLI + "_iam:policies_app", "IAM-style access policies."),
    "audit": LazyCommand(_CLI + "_audit:audit_app", "The audit trail."),
    "certs": LazyCommand(_CLI + "_certs:app", "Certificates for TLS."),
    "encryption": LazyCommand(
        _CLI + "_encryption:app", "Encryption at rest: status and KEK rotation."
    ),
    "tags": LazyCommand(
        _CLI + "_iam:tags_app", "Tags on principals and resources, for policy conditions."
    ),
    "groups": LazyCommand(_CLI + "_iam:groups_app", "Groups of principals that share policies."),
    "roles": LazyCommand(_CLI + "_iam:roles_app", "Roles assumed for a session."),
}
"""Every command of ``shipyard`` in the order its help lists them, each loaded when it runs
(``tests/cli/test_lazy_commands.py`` holds this table and the command modules together)."""


class ShipyardGroup(LazyGroup):
    lazy_commands = COMMANDS


app = typer.Typer(
    name="shipyard",
    help="Shipyard: data to a monitored, secured model in production, self-hosted.",
    cls=ShipyardGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"shipyard {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    url: Annotated[
        str | None, typer.Option(help="Talk to a Shipyard server at URL instead of in-process.")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="API key for --url (or SHIPYARD_API_KEY).")
    ] = None,
    ca_bundle: Annotated[
        Path | None,
        typer.Option(help="CA certificates to trust for an https --url (or SHIPYARD_CA_BUNDLE)."),
    ] = None,
    client_cert: Annotated[
        Path | None,
        typer.Option(help="Client certificate for mutual TLS (or SHIPYARD_CLIENT_CERT)."),
    ] = None,
    client_key: Annotated[
        Path | None, typer.Option(help="Its private key (or SHIPYARD_CLIENT_KEY).")
    ] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False,
) -> None:
    STATE.url, STATE.api_key = url, api_key
    STATE.ca_bundle, STATE.client_cert, STATE.client_key = ca_bundle, client_cert, client_key


# typer re-exports click's BadParameter (from its own copy of click in recent releases); the
# first base named ClickException is the root of every usage and file error click raises.
_ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def _fail(message: str) -> None:
    """Print ``error: <message>`` as one line on stderr, whatever the message holds."""
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")
    sys.stderr.flush()


def _usage_error(error: Exception) -> int:
    """Report a click error: a group run without a command prints its help (to stdout)."""
    ctx = getattr(error, "ctx", None)
    if type(error).__name__ == "NoArgsIsHelpError" and ctx is not None:
        sys.stdout.write(ctx.get_help() + "\n")
        return 2
    message = str(getattr(error, "format_message", lambda: str(error))())
    code = getattr(error, "exit_code", 2)
    if code == 2:  # a usage error: say where the usage is
        message += f" (see '{ctx.command_path if ctx is not None else 'shipyard'} --help')"
    _fail(message)
    return code if isinstance(code, int) else 2


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every error ends as one ``error: ...`` line on stderr and an exit code.

    2 for a usage error (unknown command or option, missing or bad argument), 1 for the rest
    (a Shipyard error, an unreachable ``--url``, a malformed config file).
    """
    try:
        code = app(args=argv, standalone_mode=False)
    except ShipyardError as error:
        _seal_in_process()
        _fail(str(error))
        return 1
    except typer.Exit as done:
        _seal_in_process()
        return int(done.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        errors.print("aborted")
        return 130
    except _ClickException as error:
        return _usage_error(error)
    except Exception as error:
        if not _unreachable(error):
            raise
        _fail(f"cannot reach the Shipyard server at {STATE.server_url}: {error}")
        return 1
    _seal_in_process()
    return code if isinstance(code, int) else 0  # a typer.Exit(code) comes back as the result


def _seal_in_process() -> None:
    """Chain the audit events an in-process command wrote: no server sealer runs for it."""
    seal = getattr(STATE._client.transport, "seal_audit_log", None) if STATE._client else None
    if seal is not None:
        try:
            seal()
        except (ShipyardError, OSError) as error:  # the command's own outcome stands
            errors.print(f"warning: the audit log was not sealed: {error}", highlight=False)


def _unreachable(error: Exception) -> bool:
    """Whether httpx failed to reach the server. httpx loads with the first command that
    talks to one, so a command that never did cannot have raised its errors."""
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(error, httpx.TransportError | httpx.InvalidURL)


def entrypoint() -> None:
    sys.exit(main())
