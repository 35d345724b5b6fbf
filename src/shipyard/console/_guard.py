"""Browser-facing checks for the console and cookie-authenticated requests.

- ``Host`` must be one this server answers to (loopback names with its own port, the
  address the connection arrived at, and ``console_allowed_hosts``): a page on a name
  that an attacker re-points at 127.0.0.1 (DNS rebinding) sends its own name and is
  refused before anything else happens.
- ``Origin``, when the browser sends one, must be this server's own origin, so a page
  elsewhere cannot post to the console even with the user's cookies.
- Unsafe methods with a session cookie must echo the CSRF token (``X-CSRF-Token``).

Bearer-key clients never meet the Origin and CSRF rules: a key is not sent by a browser
on its own.
"""

from __future__ import annotations

from starlette.requests import Request

from shipyard.errors import AccessDenied, InvalidInput

SESSION_COOKIE = "shipyard_session"
CSRF_COOKIE = "shipyard_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def allowed_hosts(request: Request, extra: list[str]) -> frozenset[str]:
    """The ``Host`` values this request may carry (lower case, ``name:port``)."""
    server = request.scope.get("server")
    hosts = set(extra)
    if server and server[1] is not None:
        port = int(server[1])
        address = f"[{server[0]}]" if ":" in str(server[0]) else str(server[0])
        names = (*_LOOPBACK, address)
        hosts.update(f"{name}:{port}" for name in names)
        if _DEFAULT_PORTS.get(request.url.scheme) == port:
            hosts.update(names)
    return frozenset(hosts)


def check_host(request: Request, extra: list[str]) -> str:
    """The request's ``Host`` when this server answers to it, else InvalidInput."""
    host = request.headers.get("host", "").strip().lower()
    if host not in allowed_hosts(request, extra):
        raise InvalidInput(
            f"Host {host!r} is not a name this server answers to; add it to "
            "console_allowed_hosts to serve the console under it",
            field="Host",
        )
    return host


def check_origin(request: Request, host: str) -> None:
    """Refuse a request a page of another origin sent (``Origin`` present and foreign)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if origin.strip().lower() != f"{request.url.scheme}://{host}":
        raise AccessDenied(f"cross-origin request from {origin!r} refused")
