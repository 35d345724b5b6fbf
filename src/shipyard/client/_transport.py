"""The SDK's transport interface, and its HTTP side: a catalog operation as a request.

This module imports only httpx, orjson and the wire types, never the server: the
in-process transport lives in ``_local`` and is loaded only by a client without a URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import httpx
import orjson

from shipyard import errors
from shipyard.operations import BY_NAME, Operation
from shipyard.schemas.jsonable import to_jsonable

if TYPE_CHECKING:
    import ssl

    import pyarrow as pa

ClientCert = tuple[str | Path, str | Path]
"""A client certificate and its private key (PEM files), for mutual TLS."""


class Transport(Protocol):
    """Runs one catalog operation and returns its result as plain JSON data (or, for an
    operation that streams a table, a ``pyarrow.RecordBatchReader`` read as it arrives)."""

    def call(self, operation: str, **arguments: Any) -> Any: ...

    def close(self) -> None: ...


_ERRORS: dict[str, type[errors.ShipyardError]] = {
    cls.__name__: cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, errors.ShipyardError)
}
_STATUSES = [status for _, status in errors.HTTP_STATUS]
_BY_STATUS: dict[int, type[errors.ShipyardError]] = {
    status: cls for cls, status in errors.HTTP_STATUS if _STATUSES.count(status) == 1
}


def error_from_response(status: int, content: bytes) -> errors.ShipyardError:
    """The exception a failed response stands for: the class its error document names.

    A body that is not the error document (a proxy's page, a bare ``{"error": "..."}``)
    maps by status to the one class answering with it, else to a StorageError for 5xx.
    """
    try:
        detail = orjson.loads(content)["error"]
        if isinstance(detail, dict):
            kind, message, field = detail["type"], detail["message"], detail.get("field")
            return _ERRORS.get(kind, errors.ShipyardError)(message, field=field)
        message = str(detail)
    except (orjson.JSONDecodeError, KeyError, TypeError):
        message = content.decode("utf-8", "replace")[:200]
    fallback = errors.StorageError if status >= 500 else errors.ShipyardError
    return _BY_STATUS.get(status, fallback)(message)


def tls_context(
    ca_bundle: str | Path | None = None, client_cert: ClientCert | None = None
) -> ssl.SSLContext:
    """The context an https client verifies its server with: the system's CAs or
    ``ca_bundle``, host names checked, TLS 1.2 or later, and ``client_cert`` when given."""
    import ssl

    try:
        context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise errors.InvalidInput(
            f"cannot load the CA bundle {ca_bundle}: {reason}", field="ca_bundle"
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if client_cert is not None:
        cert, key = client_cert
        try:
            context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
            raise errors.InvalidInput(
                f"cannot load the client certificate {cert} with key {key}: {reason}",
                field="client_cert",
            ) from None
    return context


def http_verify(
    url: str, ca_bundle: str | Path | None = None, client_cert: ClientCert | None = None
) -> ssl.SSLContext | bool:
    """httpx's ``verify`` for ``url``: an SSL context for https (built only then).

    A plain http server needs no CA store, and loading one (httpx's default) costs tens of
    milliseconds at every start of the CLI; its client gets a context that trusts no
    certificate at all (it still requires one and checks the host name), so a TLS
    connection through it cannot succeed by accident.
    """
    if url.lower().startswith("https:"):
        return tls_context(ca_bundle, client_cert)
    if client_cert is not None:
        raise errors.InvalidInput(
            "a client certificate needs an https:// server URL", field="client_cert"
        )
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class HttpTransport:
    """Calls a Shipyard server's REST API with a bearer key, or over mutual TLS with a
    client certificate (then ``api_key`` may be empty)."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        ca_bundle: str | Path | None = None,
        client_cert: ClientCert | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key or not client_cert else {}
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers=headers,
            timeout=timeout,
            verify=http_verify(url, ca_bundle, client_cert),
        )

    def call(self, operation: str, **arguments: Any) -> Any:
        op = BY_NAME[operation]
        path, options = self._request(op, arguments)
        if op.streams_table:
            return self._stream(op, path, options)
        response = self._http.request(op.method, path, **options)
        return self._result(response)

    def _stream(self, op: Operation, path: str, options: dict[str, Any]) -> pa.RecordBatchReader:
        """A table result read as it arrives; errors before the first batch raise here.

        pyarrow is imported here, by the first call that returns a table.
        """
        from shipyard.client._arrow_stream import open_arrow_stream, stream_broke_off

        request = self._http.build_request(op.method, path, **options)
        try:
            response = self._http.send(request, stream=True)
        except (httpx.ReadError, httpx.RemoteProtocolError) as error:
            raise stream_broke_off(error) from None
        if not response.is_success:
            response.read()
            response.close()
            raise error_from_response(response.status_code, response.content)
        return open_arrow_stream(response)

    @staticmethod
    def _request(op: Operation, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The path, query and body of a call, from the catalog's data alone: the server
        builds the request model and validates (the same checks as in-process)."""
        path = op.path
        for name in op.path_params:
            path = path.replace("{" + name + "}", quote(str(arguments[name]), safe=""))
        rest = {n: v for n, v in arguments.items() if n not in op.path_params}
        options: dict[str, Any] = {}
        if op.raw_body:
            body = rest.pop(op.raw_body)
            options["content"] = _file_chunks(body) if isinstance(body, Path) else body
        elif op.method not in ("GET", "DELETE") and rest:
            options["content"] = orjson.dumps({n: to_jsonable(v) for n, v in rest.items()})
            options["headers"] = {"content-type": "application/json"}
            rest = {}
        options["params"] = {n: _query_value(v) for n, v in rest.items() if v is not None}
        return path, options

    @staticmethod
    def _result(response: httpx.Response) -> Any:
        if response.is_success:
            if response.headers.get("content-type", "").startswith("application/json"):
                return orjson.loads(response.content)
            return response.content
        raise error_from_response(response.status_code, response.content)

    def close(self) -> None:
        self._http.close()


def _file_chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    """A file's bytes in chunks, so an upload is streamed rather than read into memory."""
    with path.open("rb") as source:
        while chunk := source.read(size):
            yield chunk


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if hasattr(value, "isoformat") else value
