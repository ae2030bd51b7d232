"""Profile: where the webhook receiver's time goes, one process, cProfile.

    .venv/bin/python bench/profile_receiver.py [--requests N] [--top N] [--cpu]

Runs the whole Django stack (middleware included, through the WSGI handler) for N distinct
deliveries on a throw-away database, with the broker pointed at Redis (BENCH_REDIS_URL, db 3)
as in production, and prints the functions with the most cumulative time. Not a throughput
figure: `bench/webhook_ingest.py` is that; this says what a delivery spends its time on.
`--cpu` runs without the profiler and prints, per delivery, the wall time and this process's
CPU time (the Python side of the receiver, the database's time left out), three rounds.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webhook_ingest import DELIVERY, REDIS_URL, SECRET_HEADER  # noqa: E402
from bench.webhook_support import (  # noqa: E402
    bench_connection,
    setup_django,
    throwaway_database,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--cpu", action="store_true", help="time it, without the profiler")
    args = parser.parse_args()
    os.environ.update(CELERY_BROKER_URL=REDIS_URL, REDIS_URL=REDIS_URL)
    with throwaway_database("bench_hooks_profile") as database_url:
        setup_django(database_url)
        from django.test import Client

        connection, secret = bench_connection()
        client = Client(headers={SECRET_HEADER: secret}, HTTP_HOST="127.0.0.1")

        def post(n: int) -> None:
            body = json.dumps({**DELIVERY, "delivery": [0, n]})
            response = client.post(
                "/webhooks/instantly/webhook", body, content_type="application/json"
            )
            assert response.status_code == 200, response.content

        for n in range(200):  # warm-up
            post(n)
        if args.cpu:
            first = 200
            for _ in range(3):
                wall, cpu = time.perf_counter(), time.process_time()
                for n in range(first, first + args.requests):
                    post(n)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                first += args.requests
                print(
                    f"{args.requests} deliveries: {wall / args.requests * 1000:.3f} ms wall, "
                    f"{cpu / args.requests * 1000:.3f} ms CPU each; load {os.getloadavg()}"
                )
            return 0
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for n in range(200, 200 + args.requests):
            post(n)
        profiler.disable()
        elapsed = time.perf_counter() - started
        from django.db import connections

        connections.close_all()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())
    print(
        f"{args.requests} deliveries in {elapsed:.2f}s under the profiler: "
        f"{elapsed / args.requests * 1000:.2f} ms each; load average {os.getloadavg()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
