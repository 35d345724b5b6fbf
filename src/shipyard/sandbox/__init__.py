"""The sandbox own code runs in: namespaces that hide the platform, a pipe back to it.

The trusted job worker stages the attempt's code and inputs, starts ``_child`` with a
plan on stdin, and records what the child reports on its channel (JSON lines) and leaves
in its outbox. This package stays light: the child imports it before the user's code.
"""

from shipyard.sandbox._context import SandboxContext
from shipyard.sandbox._entry import load_entry
from shipyard.sandbox._namespaces import Layout, SandboxError, enter, hide_paths

__all__ = ["Layout", "SandboxContext", "SandboxError", "enter", "hide_paths", "load_entry"]
