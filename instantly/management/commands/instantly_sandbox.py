"""`manage.py instantly_sandbox`: run the local Instantly sandbox, or fire webhook traffic at us.

    serve     serve a generated workspace as Instantly's API v2 until Ctrl-C, and print the two
              settings that point Salesbrain at it;
    webhooks  post generated deliveries (Instantly's flat shape) to a receiver URL with the
              secret header at a chosen rate, and print how the receiver answered.

Both build the same workspace from --seed/--campaigns/--accounts, so webhook deliveries name
campaigns and emails that the served API also knows.
"""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from instantly.demo import demo_workspace
from instantly.sandbox import (
    DEFAULT_API_KEY,
    DEFAULT_V1_API_KEY,
    WEBHOOK_AUTH_HEADER,
    SandboxApp,
    SandboxServer,
    SandboxWorkspace,
    generate_deliveries,
    post_deliveries,
)


class Command(BaseCommand):
    help = "Serve the local Instantly sandbox API, or post sandbox webhook deliveries to a URL."
    # The sandbox needs neither the database nor the project's checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True)

        serve = actions.add_parser("serve", help="serve the sandbox API until Ctrl-C")
        _add_workspace_arguments(serve)
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=8765)
        serve.add_argument("--api-key", default=DEFAULT_API_KEY)
        serve.add_argument("--per-second", type=int, default=100, help="rate limit (req/s)")
        serve.add_argument("--per-minute", type=int, default=6000, help="rate limit (req/min)")
        serve.add_argument(
            "--emails-per-minute",
            type=int,
            default=20,
            help="GET /api/v2/emails limit (req/min, Instantly's ~20); 0 = none",
        )

        hooks = actions.add_parser("webhooks", help="post webhook deliveries to a receiver")
        _add_workspace_arguments(hooks)
        hooks.add_argument(
            "--url", required=True, help="the receiver, e.g. .../webhooks/instantly/"
        )
        hooks.add_argument("--secret", required=True, help="value of the secret header")
        hooks.add_argument("--header", default=WEBHOOK_AUTH_HEADER, help="secret header name")
        hooks.add_argument("--count", type=int, default=100)
        hooks.add_argument("--rate", type=float, default=10.0, help="deliveries/s, 0 = no limit")
        hooks.add_argument("--types", default="", help="comma-separated event types (default all)")
        hooks.add_argument("--duplicates", type=float, default=0.0, help="share of retries")
        hooks.add_argument("--out-of-order", type=float, default=0.0, help="share arriving late")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "serve":
            self._serve(options)
        else:
            self._post_webhooks(options)

    def _serve(self, options: dict[str, Any]) -> None:
        workspace = _workspace(options)
        app = SandboxApp(
            workspace,
            api_key=options["api_key"],
            per_second=options["per_second"],
            per_minute=options["per_minute"],
            emails_per_minute=options["emails_per_minute"] or None,
        )
        server = SandboxServer(app, host=options["host"], port=options["port"])
        try:
            server.start()
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc}")
        try:
            self.stdout.write(
                f"Instantly sandbox: {len(workspace.campaigns)} campaigns, "
                f"{len(workspace.accounts)} accounts (seed {workspace.seed}) at {server.base_url}"
            )
            self.stdout.write("Point Salesbrain at it with:")
            self.stdout.write(
                f"  INSTANTLY_API_BASE_URL={server.base_url} INSTANTLY_API_KEY={app.api_key}"
            )
            self.stdout.write(
                f"v1 key: {DEFAULT_V1_API_KEY}; request counts: {server.base_url}/__sandbox/stats"
            )
            self.stdout.write("Ctrl-C stops it.")
            self._wait()
        except KeyboardInterrupt:
            self.stdout.write("Stopping the sandbox.")
        finally:
            server.stop()

    def _wait(self) -> None:
        """Block until Ctrl-C or SIGTERM (tests replace this)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        while True:
            time.sleep(3600)

    def _post_webhooks(self, options: dict[str, Any]) -> None:
        types = [name.strip() for name in options["types"].split(",") if name.strip()]
        try:
            deliveries = generate_deliveries(
                _workspace(options),
                options["count"],
                seed=options["seed"],
                event_types=types or None,
                duplicate_ratio=options["duplicates"],
                out_of_order_ratio=options["out_of_order"],
            )
        except ValueError as exc:
            raise CommandError(str(exc))
        started = time.monotonic()
        counts = post_deliveries(
            options["url"],
            deliveries,
            options["secret"],
            rate=options["rate"] or None,
            header=options["header"],
        )
        elapsed = time.monotonic() - started
        # The URL may carry a secret in its query string: show only where it went.
        target = urlsplit(options["url"])._replace(query="", fragment="").geturl()
        total = sum(counts.values())
        self.stdout.write(f"Posted {total} deliveries to {target} in {elapsed:.1f} s")
        for status, number in sorted(counts.items(), key=lambda item: str(item[0])):
            self.stdout.write(f"  {status}: {number}")
        failed = sum(n for status, n in counts.items() if not str(status).startswith("2"))
        if failed:
            raise CommandError(f"{failed} of {total} deliveries were not acknowledged with a 2xx")


def _interrupt(signum: int, frame: Any) -> None:
    """Let `kill` stop the sandbox as cleanly as Ctrl-C does."""
    raise KeyboardInterrupt


def _add_workspace_arguments(parser: Any) -> None:
    parser.add_argument(
        "--demo",
        action="store_true",
        help="the workspace `make run` loads (instantly.demo); overrides the options below",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--leads-per-campaign", type=int, default=20)
    parser.add_argument(
        "--now",
        default="",
        help="ISO time the generated history ends at (default: the current time)",
    )


def _workspace(options: dict[str, Any]) -> SandboxWorkspace:
    if options.get("demo"):
        return demo_workspace()
    if options["now"]:
        try:
            now = datetime.fromisoformat(options["now"].replace("Z", "+00:00"))
        except ValueError:
            raise CommandError(f"--now is not an ISO 8601 time: {options['now']}")
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    else:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        return SandboxWorkspace(
            seed=options["seed"],
            campaigns=options["campaigns"],
            accounts=options["accounts"],
            leads_per_campaign=options["leads_per_campaign"],
            now=now,
        )
    except ValueError as exc:
        raise CommandError(str(exc))
