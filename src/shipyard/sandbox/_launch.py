"""Starting the sandbox from trusted code: what to hide and show, the child, a probe.

Used by own-code training jobs (``shipyard.jobs._sandbox``) and Python transforms with
``network: none``. ``start_child`` runs ``shipyard.sandbox._child`` with a clean
environment (no ``SHIPYARD_*`` settings, no database URL, no keys) and a plan on stdin;
the plan's layout hides the Shipyard home, the database file, the blob directory, every
path in the settings and the usual Unix socket directories.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import shipyard
from shipyard.config import Settings
from shipyard.errors import JobFailed
from shipyard.sandbox._namespaces import NOBODY, ROOT, Layout

__all__ = ["NOBODY", "SandboxFailed", "layout_for", "sandbox_unavailable", "start_child"]

CHANNEL_LINE_BYTES = 1 << 20
SOCKET_DIRECTORIES = ("/run", "/var/run", "/var/tmp")  # noqa: S108 - hidden, not used
"""Hidden as well: where services keep their Unix sockets (PostgreSQL, Docker, MySQL...),
which no network namespace covers (``/tmp`` and ``/dev/shm`` are the sandbox's own)."""
_PASSED_ENV = ("LANG", "LC_ALL", "TZ", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class SandboxFailed(JobFailed):
    """The sandbox could not be set up (namespaces refused, a path it needs is hidden)."""


def hidden_paths(settings: Settings) -> list[str]:
    """Every local path the settings name (home, database file, blobs, token files), and
    the usual directories of services' Unix sockets."""
    found = [settings.home, *map(Path, SOCKET_DIRECTORIES)]
    found += [v for v in vars(settings).values() if isinstance(v, Path)]
    return existing([*found, *local_stores(settings)])


def local_stores(settings: Settings) -> list[Path]:
    """The local files of the platform's stores: a SQLite database (with its WAL and shared
    memory), a blob store on disk, and the config file ``SHIPYARD_CONFIG`` names."""
    found = []
    url = settings.metadata_url
    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        found += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    blobs = settings.blobs_url
    if "://" not in blobs or blobs.startswith("file://"):
        found.append(Path(blobs.removeprefix("file://")))
    if os.environ.get("SHIPYARD_CONFIG"):
        found.append(Path(os.environ["SHIPYARD_CONFIG"]))
    return found


def existing(paths: list[Path]) -> list[str]:
    """The paths that exist, resolved, each once, sorted."""
    return sorted({str(p.resolve()) for p in paths if p.exists()})


def _python_paths() -> tuple[list[Path], list[Path]]:
    """(the interpreter's prefixes and the shipyard package; the rest of ``sys.path``)."""
    package = Path(shipyard.__file__).resolve().parent.parent
    essential = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), package}
    rest = {Path(p).resolve() for p in sys.path if p and os.path.isabs(p) and os.path.isdir(p)}
    return sorted(essential), sorted(rest - essential)


def layout_for(directory: Path, hide: list[str], as_root: bool) -> Layout:
    """Hide ``hide``; show the Python installation (an unprivileged uid cannot enter
    ``/root``, say: an empty tmpfs goes over it with the installation bound back). Other
    ``sys.path`` entries under a hidden path or ``/tmp`` are left out."""
    essential, rest = _python_paths()
    for path in essential:
        for hidden in [*hide, str(ROOT)]:
            if path.is_relative_to(hidden):
                raise SandboxFailed(f"the sandbox hides {hidden}, where Python reads {path}")
    needed = essential + [
        p for p in rest if not any(p.is_relative_to(h) for h in [*hide, str(ROOT)])
    ]
    cover, reveal = set(), set()
    for path in needed if as_root else []:
        for ancestor in reversed(path.parents[:-1]):
            if not ancestor.stat().st_mode & 0o001:
                cover.add(str(ancestor))
                reveal.add(str(path))
                break
    return Layout(
        code=str(directory / "code"),
        inputs=str(directory / "inputs"),
        scratch=str(directory / "scratch"),
        hide=tuple(hide),
        cover=tuple(sorted(cover)),
        reveal=tuple(sorted(reveal)),
    )


def open_up(directory: Path) -> None:
    """Make the staged ``code`` and ``inputs`` readable and ``scratch`` the sandbox's own."""
    for path in [directory, *directory.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    if os.geteuid() == 0:
        os.chown(directory / "scratch", NOBODY, NOBODY)


def read_left_file(path: Path, limit: int) -> bytes | None:
    """A file the sandboxed code left in scratch, if it is a plain file (no link followed,
    one name) of at most ``limit`` bytes; None if it is not there."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SandboxFailed(f"{path.name} left by the code cannot be read: {error}") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size > limit:
            raise SandboxFailed(f"{path.name} left by the code is not a plain file under the limit")
        return file.read(limit)


def _environment() -> dict[str, str]:
    package = Path(shipyard.__file__).resolve().parent.parent
    found = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
    return found | {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(ROOT / "work"),
        "TMPDIR": str(ROOT),
        "PYTHONPATH": str(package),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def start_child(plan: dict[str, Any]) -> tuple[subprocess.Popen[bytes], int]:
    """The sandbox's process, its plan sent; and the channel's read end."""
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-s", "-m", "shipyard.sandbox._child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
            env=_environment(),
            cwd="/",
        )
    finally:
        os.close(write_end)
    assert process.stdin is not None
    process.stdin.write(json.dumps(plan | {"channel": write_end}).encode())
    process.stdin.close()
    process.stdin = None  # sent: communicate() has nothing more to write
    return process, read_end


def sandbox_unavailable(scratch: Path) -> str | None:
    """Why the sandbox cannot be entered on this machine (None: it can), by entering it."""
    if sys.platform != "linux":
        return f"the sandbox needs Linux namespaces (this is {sys.platform})"
    directory = scratch / "sandbox-probe"
    for name in ("code", "inputs", "scratch"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    open_up(directory)
    try:
        layout = layout_for(directory, [], os.geteuid() == 0)
    except SandboxFailed as error:
        return str(error)
    process, read_end = start_child({"layout": vars(layout), "uid": NOBODY, "probe": True})
    with os.fdopen(read_end, "rb") as channel:
        said = channel.read(CHANNEL_LINE_BYTES).decode("utf-8", "replace")
    assert process.stdout is not None
    output = process.stdout.read().decode("utf-8", "replace")
    process.wait()
    if process.returncode == 0 and '"done"' in said:
        return None
    return f"the sandbox cannot be entered here: {said.strip() or output.strip()[-500:]}"
