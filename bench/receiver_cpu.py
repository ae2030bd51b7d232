"""Profile: CPU per request of the bare view, the bare view + one INSERT, and the receiver.

    .venv/bin/python bench/receiver_cpu.py [--requests N]

Sequential requests through the whole Django stack in-process (middleware included, the bench
URLconf of `bench/webhook_ingest.py`), on a throw-away database. For each view it prints the
wall time, this process's CPU time and the PostgreSQL backend's CPU time per request (read from
/proc), twice. Where `bench/webhook_ingest.py` says how fast, this says what each request costs
and on which side: what a receiver that must store before answering can save is the
difference between its line and the reference's. The load average is printed on each line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webhook_ingest import (  # noqa: E402
    DELIVERY,
    REDIS_URL,
    SECRET_HEADER,
    create_floor_table,
)
from bench.webhook_support import (  # noqa: E402
    bench_connection,
    bench_environment,
    throwaway_database,
)

VIEWS = ("/bench/bare", "/bench/bare-insert", "/webhooks/instantly/webhook")


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    with throwaway_database("bench_receiver_cpu") as database_url:
        os.environ.update(
            bench_environment(
                database_url,
                DJANGO_SETTINGS_MODULE="bench.ingest_settings",
                CELERY_BROKER_URL=REDIS_URL,
                REDIS_URL=REDIS_URL,
            )
        )
        import django

        django.setup()
        from django.db import connection, connections
        from django.test import Client

        create_floor_table(database_url)
        provider, secret = bench_connection()
        client = Client(headers={SECRET_HEADER: secret}, HTTP_HOST="127.0.0.1")
        sent = 0

        def post(path: str) -> None:
            nonlocal sent
            sent += 1
            body = json.dumps({**DELIVERY, "delivery": [0, sent]})
            response = client.post(path, body, content_type="application/json")
            assert response.status_code == 200, response.content

        for path in VIEWS * 2:
            for _ in range(300):  # warm-up, and the connection is open
                post(path)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            wall, cpu, db = time.perf_counter(), time.process_time(), backend_cpu_seconds(pid)
            for _ in range(args.requests):
                post(path)
            n = args.requests
            print(
                f"{path:30s} wall {(time.perf_counter() - wall) / n * 1000:.3f} ms  "
                f"python cpu {(time.process_time() - cpu) / n * 1000:.3f} ms  "
                f"postgresql cpu {(backend_cpu_seconds(pid) - db) / n * 1000:.3f} ms  "
                f"(load {' '.join(f'{x:.2f}' for x in os.getloadavg())})"
            )
        connections.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
