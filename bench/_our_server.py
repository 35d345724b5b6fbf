"""Serve the bench model with Shipyard's app, plus ``POST /bench/empty`` (auth, no model).

Run as: python bench/_our_server.py MODEL_DIR PORT API_KEY [WORKERS] [--batching] [--raw]
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _model import HashedKeyAuthorizer, load_bench_predictor
from shipyard.serving import (
    INVOKE,
    BatchingSettings,
    EndpointConfig,
    ModelSlot,
    Request,
    Response,
    Route,
    ServingApp,
    ServingSettings,
    Variant,
    serve,
)

EMPTY_ANSWER = b'{"predictions":[0]}'


def build(
    model_dir: Path,
    api_key: str,
    batching: bool = False,
    raw: bool = False,
    max_batch: int = 32,
    max_wait_ms: float = 2.0,
    in_thread: bool = False,
) -> ServingApp:
    predictor, _ = load_bench_predictor(model_dir, raw=raw)
    authorizer = HashedKeyAuthorizer({api_key: {INVOKE}})
    settings = BatchingSettings(
        enabled=batching, max_batch_size=max_batch, max_wait_ms=max_wait_ms, in_thread=in_thread
    )
    slot = ModelSlot("breast-cancer-model", 1, predictor)
    config = EndpointConfig([Variant("primary", slot)], batching=settings)
    app = ServingApp("bench", config, authorizer, ServingSettings(batch_in_thread=in_thread))
    limit = app.settings.max_body_bytes

    async def empty(request: Request) -> Response:
        await request.body(limit)
        return Response(200, EMPTY_ANSWER)

    app.add_route(Route("/bench/empty", frozenset({"POST"}), empty, INVOKE))
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("api_key")
    parser.add_argument("workers", type=int, nargs="?", default=1)
    parser.add_argument("--batching", action="store_true")
    parser.add_argument("--raw", action="store_true")
    parser.add_argument("--max-batch", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=2.0)
    parser.add_argument("--in-thread", action="store_true")
    args = parser.parse_args()
    factory = functools.partial(
        build,
        args.model_dir,
        args.api_key,
        args.batching,
        args.raw,
        args.max_batch,
        args.max_wait_ms,
        args.in_thread,
    )
    app = factory() if args.workers == 1 else factory
    serve(app, port=args.port, workers=args.workers, log_level="warning")


if __name__ == "__main__":
    main()
