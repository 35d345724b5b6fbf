"""How a client reaches a server (``url``, ``api_key`` and TLS files), read from the same
sources as every setting without building the whole ``Settings`` model.

``Settings`` extends ``Connection``. A command run against a server needs only these five
fields, and validating every setting of the server (a large model to build) was a fifth of
such a command's start-up, so ``load_connection`` reads the config file and ``SHIPYARD_*``
variables as ``load_settings`` does, through the same ``read_sources``, and validates just
these. A server's own settings in the file are not the client's concern, so neither their
values nor unknown keys are judged here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from shipyard.errors import InvalidInput

ENV_PREFIX = "SHIPYARD_"


def default_home(environ: Mapping[str, str]) -> Path:
    """The home when none is given: ``SHIPYARD_HOME`` if set and not empty, else ~/.shipyard."""
    home = environ.get(f"{ENV_PREFIX}HOME")
    return Path(home) if home else Path.home() / ".shipyard"


def _yaml(text: str) -> Any:
    import yaml  # here: most commands read no config file, and yaml is slow to import

    return yaml.safe_load(text)


def read_sources(
    environ: Mapping[str, str],
    fields: Iterable[str],
    home: str | os.PathLike[str] | None = None,
    parsed: Iterable[str] = (),
) -> dict[str, Any]:
    """The values of ``fields`` from the config file (``SHIPYARD_CONFIG``, else
    ``<home>/config.yaml``) and then ``SHIPYARD_<FIELD>`` variables, later ones winning,
    unvalidated; the file's other keys too. ``parsed`` fields' variables hold YAML."""
    values: dict[str, Any] = {}
    home = home or environ.get(f"{ENV_PREFIX}HOME")
    config_file = environ.get(f"{ENV_PREFIX}CONFIG")
    candidate = (
        Path(config_file)
        if config_file
        else (Path(home) if home else default_home(environ)) / "config.yaml"
    )
    if config_file and not candidate.is_file():
        raise InvalidInput(f"{candidate} is not a file", field="SHIPYARD_CONFIG")
    if candidate.is_file():
        import yaml

        try:
            loaded = yaml.safe_load(candidate.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            problem = " ".join(str(exc).split())
            raise InvalidInput(f"{candidate} cannot be read: {problem}", field="config") from None
        if not isinstance(loaded, dict):
            raise InvalidInput(f"{candidate} must hold a mapping", field="config")
        values.update(loaded)
    yaml_fields = set(parsed)
    for field in fields:
        raw = environ.get(f"{ENV_PREFIX}{field.upper()}")
        if raw is not None and raw != "":
            values[field] = _yaml(raw) if field in yaml_fields else raw
    return values


def validated(model: type[BaseModel], values: dict[str, Any]) -> Any:
    """``model(**values)``, its first problem an ``InvalidInput`` naming the field."""
    try:
        return model(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(first["msg"], field=field) from None


class Connection(BaseModel):
    """How clients reach a Shipyard server."""

    model_config = ConfigDict(frozen=True)

    url: str | None = None
    api_key: SecretStr | None = None
    ca_bundle: Path | None = None
    """CA certificates the clients trust for an ``https`` ``url`` (default: the system's)."""
    client_cert: Path | None = None
    """The clients' certificate for mutual TLS (with ``client_key``)."""
    client_key: Path | None = None


def load_connection(environ: Mapping[str, str] | None = None) -> Connection:
    """The connection fields of this installation's settings (see ``load_settings``)."""
    env = os.environ if environ is None else environ
    values = read_sources(env, Connection.model_fields)
    connection: Connection = validated(
        Connection, {k: v for k, v in values.items() if k in Connection.model_fields}
    )
    return connection
