"""The ``shipyard`` command: one Typer app; errors end as one line and a non-zero exit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from shipyard import __version__
from shipyard.cli import (
    _alarms,
    _automl,
    _batch,
    _certs,
    _contracts,
    _cost,
    _datasets,
    _deploy,
    _edge,
    _encryption,
    _endpoints,
    _evaluation,
    _features,
    _iam,
    _logs,
    _monitors,
    _pipelines,
    _registry,
    _runs,
    _scheduler,
    _servers,
    _streams,
    _training,
    _transforms,
    _tuning,
)
from shipyard.cli._context import STATE
from shipyard.cli._output import errors
from shipyard.cli._quickstart import quickstart
from shipyard.errors import ShipyardError

app = typer.Typer(
    name="shipyard",
    help="Shipyard: data to a monitored, secured model in production, self-hosted.",
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


app.command()(_servers.init)
app.command()(_servers.server)
app.command()(_servers.serve)
app.command()(_scheduler.scheduler)
app.command()(quickstart)
app.command()(_cost.cost)
app.command()(_logs.logs)
app.command()(_training.train)
app.command("batch-transform")(_batch.batch_transform)
app.command("export-edge")(_edge.export_edge)
app.command("import-edge")(_edge.import_edge)
app.add_typer(_datasets.app, name="datasets")
app.add_typer(_contracts.app, name="contracts")
app.command()(_contracts.validate)
app.add_typer(_features.app, name="features")
app.add_typer(_streams.app, name="streams")
app.add_typer(_transforms.app, name="transforms")
app.add_typer(_training.jobs_app, name="jobs")
app.add_typer(_tuning.tune_app, name="tune")
app.add_typer(_pipelines.app, name="pipelines")
app.add_typer(_batch.jobs_app, name="batch-jobs")
app.add_typer(_automl.app, name="automl")
app.add_typer(_registry.experiments_app, name="experiments")
app.add_typer(_runs.runs_app, name="runs")
app.add_typer(_registry.models_app, name="models")
app.command()(_evaluation.evaluate)
app.add_typer(_evaluation.evaluations_app, name="evaluations")
_endpoints.app.command("recommend")(_cost.recommend)
app.add_typer(_endpoints.app, name="endpoints")
app.add_typer(_monitors.app, name="monitors")
app.command()(_deploy.deploy)
app.add_typer(_deploy.deployments_app, name="deployments")
app.add_typer(_alarms.app, name="alarms")
app.add_typer(_iam.principals_app, name="principals")
app.add_typer(_iam.keys_app, name="keys")
app.add_typer(_iam.policies_app, name="policies")
app.add_typer(_iam.audit_app, name="audit")
app.add_typer(_certs.app, name="certs")
app.add_typer(_encryption.app, name="encryption")
app.add_typer(_iam.tags_app, name="tags")
app.add_typer(_iam.groups_app, name="groups")
app.add_typer(_iam.roles_app, name="roles")


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
