"""Serve the bench model with Shipyard's app, plus ``POST /bench/empty`` (auth, no model).

Run as: python bench/_our_server.py MODEL_DIR PORT API_KEY [WORKERS]
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _model import HashedKeyAuthorizer, load_bench_predictor
from shipyard.serving import (
    INVOKE,
    Request,
    Response,
    Route,
    ServingApp,
    create_serving_app,
    serve,
)

EMPTY_ANSWER = b'{"predictions":[0]}'


def build(model_dir: Path, api_key: str) -> ServingApp:
    predictor, _ = load_bench_predictor(model_dir)
    authorizer = HashedKeyAuthorizer({api_key: {INVOKE}})
    app = create_serving_app("bench", "breast-cancer-gbm", 1, predictor, authorizer)
    limit = app.settings.max_body_bytes

    async def empty(request: Request) -> Response:
        await request.body(limit)
        return Response(200, EMPTY_ANSWER)

    app.add_route(Route("/bench/empty", frozenset({"POST"}), empty, INVOKE))
    return app


def main() -> None:
    model_dir, port, api_key = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    workers = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    factory = functools.partial(build, model_dir, api_key)
    serve(factory() if workers == 1 else factory, port=port, workers=workers, log_level="warning")


if __name__ == "__main__":
    main()
