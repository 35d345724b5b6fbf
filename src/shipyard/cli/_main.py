"""The ``shipyard`` command: one Typer app; errors end as one line and a non-zero exit."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from shipyard import __version__
from shipyard.cli import (
    _batch,
    _contracts,
    _datasets,
    _deploy,
    _edge,
    _endpoints,
    _features,
    _iam,
    _registry,
    _servers,
    _streams,
    _training,
    _transforms,
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
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False,
) -> None:
    STATE.url, STATE.api_key = url, api_key


app.command()(_servers.init)
app.command()(_servers.server)
app.command()(_servers.serve)
app.command()(quickstart)
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
app.add_typer(_batch.jobs_app, name="batch-jobs")
app.add_typer(_registry.experiments_app, name="experiments")
app.add_typer(_registry.runs_app, name="runs")
app.add_typer(_registry.models_app, name="models")
app.add_typer(_endpoints.app, name="endpoints")
app.command()(_deploy.deploy)
app.add_typer(_deploy.deployments_app, name="deployments")
app.add_typer(_iam.principals_app, name="principals")
app.add_typer(_iam.keys_app, name="keys")
app.add_typer(_iam.policies_app, name="policies")
app.add_typer(_iam.audit_app, name="audit")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a Shipyard error prints ``error: <field>: <message>`` and exits 1."""
    try:
        code = app(args=argv, standalone_mode=False)
    except ShipyardError as error:
        errors.print(f"error: {error}", highlight=False, markup=False, soft_wrap=True)
        return 1
    except typer.Exit as done:
        return int(done.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        errors.print("aborted")
        return 130
    except __import__("click").ClickException as error:
        errors.print(f"error: {error.format_message()}", highlight=False, markup=False)
        return 2
    return code if isinstance(code, int) else 0  # a typer.Exit(code) comes back as the result


def entrypoint() -> None:
    sys.exit(main())
