"""What a job's process tree uses, read from /proc: CPU seconds, resident memory, members.

The tree is the job process and every descendant; CPU of descendants that have ended is
counted through the job process's children rusage.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class _Proc:
    pid: int
    ppid: int
    group: int
    zombie: bool
    cpu_seconds: float
    rss_bytes: int


def _read(pid: int) -> _Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
    except (OSError, ValueError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return _Proc(
        pid=pid,
        ppid=int(fields[1]),
        group=int(fields[2]),
        zombie=fields[0] == "Z",
        cpu_seconds=(int(fields[11]) + int(fields[12])) / _TICK,
        rss_bytes=int(statm[1]) * _PAGE,
    )


def _all() -> list[_Proc]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            proc = _read(int(entry))
            if proc is not None:
                found.append(proc)
    return found


def tree(root: int) -> list[_Proc]:
    """The process ``root`` and its live descendants."""
    procs = _all()
    children: dict[int, list[_Proc]] = {}
    for proc in procs:
        children.setdefault(proc.ppid, []).append(proc)
    top = next((p for p in procs if p.pid == root), None)
    found, todo = [], [top] if top else []
    while todo:
        proc = todo.pop()
        found.append(proc)
        todo.extend(children.get(proc.pid, []))
    return found


def group_members(group: int) -> list[int]:
    """Pids of the live processes in a process group (an ended process its parent has not
    reaped yet, a zombie, is not live)."""
    return [p.pid for p in _all() if p.group == group and not p.zombie]


def tree_usage() -> tuple[float, float]:
    """(CPU seconds, resident MiB) of this process's tree now, ended descendants included."""
    members = tree(os.getpid())
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(p.cpu_seconds for p in members) + ended.ru_utime + ended.ru_stime
    return cpu, sum(p.rss_bytes for p in members) / 2**20


def own_peak_mib() -> float:
    """This process's peak resident memory (VmHWM)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def address_space_mib() -> float:
    """This process's virtual size now (VmSize), the base a memory limit is added to."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
