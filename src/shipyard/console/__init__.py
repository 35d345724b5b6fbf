"""The web console: its files, its login session, and the browser-facing checks."""

from shipyard.console._guard import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from shipyard.console._headers import CONTENT_SECURITY_POLICY, ConsoleHeaders
from shipyard.console._routes import CONSOLE_PUBLIC_PATHS, add_console_routes, cookie_context
from shipyard.console._static import STATIC_DIR, StaticFiles

__all__ = [
    "CONSOLE_PUBLIC_PATHS",
    "CONTENT_SECURITY_POLICY",
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "STATIC_DIR",
    "ConsoleHeaders",
    "StaticFiles",
    "add_console_routes",
    "cookie_context",
]
