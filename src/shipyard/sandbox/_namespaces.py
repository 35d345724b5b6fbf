"""Entering the sandbox: new namespaces, a mount view that hides the platform, no root.

Called first thing in a fresh, single-threaded child process (``_child``). As root it
unshares the mount, network, PID, IPC and UTS namespaces, makes every mount private (nothing
propagates back to the host), puts empty tmpfs over the paths to hide (the Shipyard home
with its database, keys and blobs), gives a private ``/tmp`` holding the attempt's code and
inputs (read-only binds) and its scratch directory (the only writable place), remounts
everything else read-only, brings up loopback in the empty network namespace, and drops to
an unprivileged uid with no capabilities and ``no_new_privs``. Without root it does the
same inside a user namespace, then enters a second one so the mounts it made are locked
(the code cannot unmount them to see what they hide).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
NOBODY = 65534
ROOT = Path("/tmp")  # noqa: S108 - a fresh tmpfs in the sandbox's own mount namespace
SHM = "/dev/shm"  # noqa: S108 - likewise
"""The sandbox's private tmpfs: ``code`` and ``inputs`` (read-only) and ``work`` (scratch)."""
_KEPT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}
_LIVE_FILESYSTEMS = {"proc", "sysfs", "devtmpfs", "devpts", "mqueue", "cgroup", "cgroup2"}

_libc = ctypes.CDLL(None, use_errno=True)


class SandboxError(OSError):
    """The sandbox could not be set up (namespaces refused, a mount failed)."""


@dataclass(frozen=True)
class Layout:
    """What the sandbox shows and hides: host directories and paths, by name."""

    code: str
    inputs: str
    scratch: str
    hide: tuple[str, ...]
    cover: tuple[str, ...] = ()
    """Directories the sandbox's uid cannot enter (``/root``): an empty tmpfs over each..."""
    reveal: tuple[str, ...] = ()
    """...with these paths under them bound back read-only (the Python installation)."""


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SandboxError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    def encode(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    result = _libc.mount(encode(source), target.encode(), encode(fstype), flags, encode(data))
    _check(result, f"mount {target}")


def _unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, filesystem type, per-mount options) of this mount namespace."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        dash = fields.index("-")
        point = fields[4].encode().decode("unicode_escape")
        found.append((point, fields[dash + 1], set(fields[5].split(","))))
    return found


def _read_only_everywhere(writable: set[str]) -> None:
    """Remount every mount but the live filesystems and ``writable`` read-only."""
    for point, fstype, options in _mounts():
        if fstype in _LIVE_FILESYSTEMS or point in writable or "ro" in options:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        flags |= sum(bit for name, bit in _KEPT_FLAGS.items() if name in options)
        try:
            _mount(None, point, None, flags)
        except SandboxError as error:
            if error.errno != 2:  # a mount point under a hidden path is gone: nothing to do
                raise


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, 0x8913, request)[:18])[1]
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))


def _hide(path: str) -> None:
    if os.path.isdir(path):
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=755")
    elif os.path.exists(path):
        _mount("/dev/null", path, None, MS_BIND)
        _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def _become_init() -> None:
    """Continue as process 1 of the new PID namespace: when it ends, every process the code
    started ends with it. This process waits for it and exits with its status."""
    child = os.fork()
    if child == 0:
        return
    status = os.waitpid(child, 0)[1]
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)


def enter(layout: Layout, *, uid: int = NOBODY) -> None:
    """Move this (single-threaded) process into the sandbox; it cannot leave it."""
    root = os.geteuid() == 0
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    outer_uid, outer_gid = os.geteuid(), os.getegid()
    isolated = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID
    if root:
        _unshare(isolated)
    else:
        _unshare(isolated | CLONE_NEWUSER)
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {outer_uid} 1")
        _write("/proc/self/gid_map", f"0 {outer_gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    shown = (("code", layout.code), ("inputs", layout.inputs), ("work", layout.scratch))
    keep = {name: os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for name, path in shown}
    revealed = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in layout.reveal}
    for path in layout.cover:
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    for path, fd in revealed.items():
        _bind_back(path, fd)
        _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    for path in layout.hide:  # after the reveals: a hidden path inside one stays hidden
        _hide(path)
    _mount("tmpfs", str(ROOT), "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    for name, fd in keep.items():
        target = ROOT / name
        target.mkdir()
        _mount(f"/proc/self/fd/{fd}", str(target), None, MS_BIND | MS_REC)
        if name != "work":
            _mount(None, str(target), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
        os.close(fd)
    _mount("tmpfs", SHM, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    _become_init()
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _read_only_everywhere({str(ROOT), str(ROOT / "work"), SHM})
    _loopback_up()
    if root:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    else:
        _unshare(CLONE_NEWUSER | CLONE_NEWNS)  # the mounts above are now locked
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} 0 1")
        _write("/proc/self/gid_map", f"{uid} 0 1")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    os.chdir(ROOT / "work")


def hide_paths(hide: Sequence[str], *, cover: str | None = None, keep: Sequence[str] = ()) -> None:
    """Give this process a mount namespace of its own in which ``hide`` shows empty.

    ``cover`` is a directory shown empty but for ``keep`` (paths under it, bound back as
    they are): a file under it that is not kept does not exist at all. Lighter than
    ``enter``: only the mount namespace (a serving worker keeps its network, its processes
    and its uid). As root it works from any thread; otherwise it needs a user namespace,
    which the kernel gives a single-threaded process only (SandboxError if not). Threads
    started before the call keep the old view; those started after share the new one.
    """
    if os.geteuid() == 0:
        _unshare(CLONE_NEWNS)
    else:
        outer_uid, outer_gid = os.geteuid(), os.getegid()
        _unshare(CLONE_NEWUSER | CLONE_NEWNS)
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{outer_uid} {outer_uid} 1")
        _write("/proc/self/gid_map", f"{outer_gid} {outer_gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    if cover is not None:
        kept = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in keep}
        _mount("tmpfs", cover, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
        for path, fd in kept.items():
            _bind_back(path, fd)
        _mount(None, cover, None, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=755")
    for path in hide:
        _hide(path)


def _bind_back(path: str, fd: int) -> None:
    """Mount what ``fd`` (an ``O_PATH`` descriptor taken before a cover) opens at ``path``
    again, making the directory or empty file to mount on; the descriptor is closed."""
    if os.path.isdir(f"/proc/self/fd/{fd}"):
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Path(path).touch()
    _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
    os.close(fd)
