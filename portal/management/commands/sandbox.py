"""``python manage.py sandbox --port N [--empty] [--legacy N] [--legacy-manifest PATH]``: the AWS sandbox alone, as a
server on 127.0.0.1."""

from __future__ import annotations

import errno
import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.sandboxing import SandboxUnavailable, demo_inputs, require_sandbox


class Command(BaseCommand):
    help = "Serve the AWS sandbox (moto, extended) on 127.0.0.1:PORT, seeded with the demo organisation."
    requires_system_checks: list[str] = []  # it is the sandbox the AWS check asks for

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=5055, help="TCP port on 127.0.0.1 (default 5055).")
        parser.add_argument("--empty", action="store_true", help="Start with no resources instead of the demo org.")
        parser.add_argument(
            "--legacy",
            type=int,
            default=0,
            metavar="N",
            help="Also seed N legacy SageMaker resources for the tag backfill (default 0).",
        )
        parser.add_argument(
            "--legacy-manifest",
            type=Path,
            default=None,
            metavar="PATH",
            help="Write the legacy resources' expected attribution there (JSON; never read by the portal).",
        )

    def handle(
        self, *args: Any, port: int, empty: bool, legacy: int, legacy_manifest: Path | None, **options: Any
    ) -> None:
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}.")
        if legacy < 0:
            raise CommandError(f"--legacy must be 0 or more, not {legacy}.")
        if legacy and empty:
            raise CommandError("--legacy needs the demo organisation: leave out --empty.")
        try:
            require_sandbox()
        except SandboxUnavailable as exc:
            raise CommandError(str(exc)) from exc
        # Sandbox mode only: the sandbox (and moto) is imported here, never at the module's import.
        from awssandbox import limits
        from awssandbox.clock import ClockError, clock, parse_setting
        from awssandbox.server import make_sandbox_server, seed_demo

        inputs = demo_inputs()
        try:
            clock.set_defaults(parse_setting(settings.AWS_SANDBOX_LIFECYCLE_SECONDS))
        except ClockError as exc:
            raise CommandError(f"AWS_SANDBOX_LIFECYCLE_SECONDS: {exc}") from exc
        try:
            server = make_sandbox_server(port, demo=inputs)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandError(f"Port {port} on 127.0.0.1 is in use; choose another with --port.") from exc
            raise
        if not empty:
            started = time.perf_counter()
            summary = seed_demo(inputs)
            counts = ", ".join(f"{value} {key.replace('_', ' ')}" for key, value in summary.items())
            self.stdout.write(f"Seeded the demo organisation in {time.perf_counter() - started:.1f} s: {counts}.")
        if legacy:
            self._seed_legacy(legacy, legacy_manifest)
        slow = {key: value for key, value in clock.durations().items() if value}
        lifecycle = ", ".join(f"{key} {value:g} s" for key, value in slow.items()) or "instant"
        self.stdout.write(f"Studio lifecycles: {lifecycle} (AWS_SANDBOX_LIFECYCLE_SECONDS, /_sandbox/clock).")
        limits.registry.configure(enabled=settings.AWS_SANDBOX_RATE_LIMITS)
        state = "on" if settings.AWS_SANDBOX_RATE_LIMITS else "off (AWS_SANDBOX_RATE_LIMITS)"
        self.stdout.write(f"Rate limits {state}; see or change them at /_sandbox/limits.")
        self.stdout.write(self.style.SUCCESS(f"AWS sandbox listening on http://127.0.0.1:{port} (Ctrl-C stops it)."))
        self.stdout.write(f"Try: aws --endpoint-url http://127.0.0.1:{port} sagemaker list-domains --region us-east-1")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    def _seed_legacy(self, count: int, manifest_path: Path | None) -> None:
        from awssandbox import legacy

        started = time.perf_counter()
        manifest = legacy.seed(count)
        rules = ", ".join(f"{value} {key}" for key, value in legacy.summary(manifest)["rules"].items())
        self.stdout.write(
            f"Seeded {manifest['count']} legacy SageMaker resources in {time.perf_counter() - started:.1f} s: {rules}."
        )
        if manifest_path is not None:
            manifest_path.parent.mkdir(parents=True, exist_ok=True)
            manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
            self.stdout.write(f"Their expected attribution is in {manifest_path}.")
