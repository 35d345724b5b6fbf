"""Shipyard's REST app under uvicorn on a free 127.0.0.1 port, in a thread of the bench."""

from __future__ import annotations

import threading
import time

import uvicorn

from shipyard.api import create_app
from shipyard.platform import Platform


class LiveServer:
    """The control plane for one platform; ``url`` once started, ``close`` to stop."""

    def __init__(self, platform: Platform) -> None:
        config = uvicorn.Config(
            create_app(platform), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the Shipyard API server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
