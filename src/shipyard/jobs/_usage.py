"""What a job's process tree uses, read from /proc: CPU seconds, resident memory, members.

The tree is the job process and every descendant; CPU of descendants that have ended is
counted through the job process's children rusage.
"""

from __future__ import annotations

import os
import resource
import time
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


_peak_before_reset = 0.0


def own_peak_mib() -> float:
    """This process's peak resident memory over its life (VmHWM; resets by ``reset_peak``
    are looked through)."""
    return max(_peak_before_reset, _hwm_mib())


def _hwm_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    """Start measuring this process's peak resident memory afresh (Linux: VmHWM back to the
    current size), for the peak of one piece of work in a long-lived process. False where
    the kernel does not allow it: the peak then counts from the process's start."""
    global _peak_before_reset
    _peak_before_reset = own_peak_mib()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class WorkUsage:
    """Wall time, CPU seconds (every thread of this process) and peak resident memory of
    one piece of work run in this process, such as a tuning trial."""

    def __init__(self) -> None:
        reset_peak()
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def record(self) -> dict[str, float]:
        return {
            "wall_seconds": round(time.perf_counter() - self._wall, 4),
            "cpu_seconds": round(time.process_time() - self._cpu, 4),
            "peak_mib": round(_hwm_mib(), 1),
        }


def address_space_mib() -> float:
    """This process's virtual size now (VmSize), the base a memory limit is added to."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
