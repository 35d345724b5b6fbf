"""The sandboxed process: read the plan, enter the sandbox, run the user's entry function.

The plan (JSON on stdin) names the host directories to show and the paths to hide, the
channel's file descriptor, the entrypoint, params and dataset names; or a ``worker``
script of Shipyard's (the Python transform worker) and its request, run in the sandbox.
The outcome is the channel's last line: ``done``, ``error`` (the code raised: its type and
message) or ``sandbox`` (the sandbox could not be set up; no user code ran).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback

from shipyard.sandbox._context import OUTBOX, Channel, SandboxContext
from shipyard.sandbox._entry import load_entry
from shipyard.sandbox._namespaces import ROOT, Layout, enter


def main() -> int:
    plan = json.loads(sys.stdin.buffer.read())
    stream = os.fdopen(int(plan["channel"]), "w", encoding="utf-8")
    try:
        enter(Layout(**plan["layout"]), uid=int(plan["uid"]))
    except Exception as error:  # not Linux (no unshare in libc), namespaces refused, ...
        stream.write(json.dumps({"op": "sandbox", "message": str(error)}) + "\n")
        return 3
    channel = Channel(stream, ROOT / "work" / OUTBOX)
    if plan.get("probe"):
        channel.send("done")
        return 0
    if "worker" in plan:
        code = int(runpy.run_path(plan["worker"]["script"])["handle"](plan["worker"]["request"]))
        channel.send("done")
        return code
    context = SandboxContext(
        channel,
        plan["job_id"],
        plan["run_id"],
        plan["params"],
        plan["datasets"],
        ROOT / "inputs",
    )
    try:
        load_entry(ROOT / "code", plan["entry_file"], plan["function"])(context)
    except BaseException as error:
        traceback.print_exc()
        message = str(error)[:2000]
        channel.send("error", type=type(error).__name__, message=message)
        return 1
    channel.send("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
