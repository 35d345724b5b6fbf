"""Routes of the serving app: every route names the action it needs, or is declared public."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from shipyard.serving._http import Request, Response

Handler = Callable[[Request], Awaitable[Response]]
_CACHE_LIMIT = 256


@dataclass(frozen=True)
class Route:
    """One path template (``/v2/models/{name}``), its methods, handler and the action it requires.

    A route without an action must say ``public=True``; there is no third way, so a
    new route cannot be reachable without an authorization rule by accident.
    """

    path: str
    methods: frozenset[str]
    handler: Handler
    action: str | None = None
    public: bool = False
    segments: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.action is None) == (not self.public):
            raise ValueError(f"route {self.path} needs exactly one of an action or public=True")
        if not self.path.startswith("/"):
            raise ValueError(f"route path must start with '/': {self.path!r}")
        object.__setattr__(self, "segments", tuple(self.path.strip("/").split("/")))

    @property
    def templated(self) -> bool:
        return "{" in self.path

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """Path parameters when the split path fits this template, else None."""
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for part, segment in zip(parts, self.segments, strict=True):
            if segment.startswith("{"):
                if not part:
                    return None
                params[segment[1:-1]] = part
            elif part != segment:
                return None
        return params


class Router:
    """Finds the route for a path: exact paths by dictionary, templates in order."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._exact: dict[str, Route] = {}
        self._templates: list[Route] = []
        self._cache: dict[str, tuple[Route, dict[str, str]] | None] = {}

    def add(self, route: Route) -> None:
        if any(existing.path == route.path for existing in self.routes):
            raise ValueError(f"route {route.path} is already defined")
        self.routes.append(route)
        if route.templated:
            self._templates.append(route)
        else:
            self._exact[route.path] = route
        self._cache.clear()

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and its path parameters, or None when no route has this path."""
        route = self._exact.get(path)
        if route is not None:
            return route, {}
        if path in self._cache:
            return self._cache[path]
        parts = path.strip("/").split("/")
        found = None
        for template in self._templates:
            params = template.match(parts)
            if params is not None:
                found = template, params
                break
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[path] = found
        return found
