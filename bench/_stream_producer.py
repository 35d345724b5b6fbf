"""The streaming bench's producer process: pipelined XADD of JSON records, timed by itself.

    python bench/_stream_producer.py URL KEY START COUNT [RATE]

Prints ``{"first": <epoch s of the first XADD>, "seconds": <time spent sending>}``.
"""

from __future__ import annotations

import sys
import time

import orjson
import redis

BATCH = 1_000


def main(url: str, key: str, start: int, count: int, rate: float | None) -> None:
    client = redis.Redis.from_url(url)
    client.ping()
    first_at = time.time()
    began = time.perf_counter()
    for first in range(start, start + count, BATCH):
        if rate is not None:
            due = began + (first - start) / rate
            time.sleep(max(0.0, due - time.perf_counter()))
        now = time.time()
        with client.pipeline(transaction=False) as pipe:
            for i in range(first, min(first + BATCH, start + count)):
                value = {"id": i, "user": f"u{i % 1000}", "amount": i * 0.25, "ok": i % 2 == 0}
                pipe.xadd(key, {"record": orjson.dumps(value | {"ts": now})})
            pipe.execute()
    seconds = time.perf_counter() - began
    client.close()
    print(orjson.dumps({"first": first_at, "seconds": seconds}).decode())


if __name__ == "__main__":
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else None
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), rate)
