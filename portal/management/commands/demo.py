"""``python manage.py demo``: the whole portal on the embedded default, in the foreground.

Starts the AWS sandbox server (seeded), applies migrations, creates the demo logins and each app's demo data, then
runs a Celery worker, Celery beat and the web server on 127.0.0.1:8000. Ctrl-C stops every process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from portal.aws import gateway
from portal.demo import DEMO_PASSWORD, DEMO_USERS, ensure_demo_users, setup_app_demos
from portal.demo_env import remove_demo_env, write_demo_env
from portal.sandboxing import SandboxUnavailable, demo_oidc_env, require_sandbox


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Command(BaseCommand):
    help = "Run the demo: sandbox, migrations, demo data and logins, worker, beat and web on 127.0.0.1."
    # It starts the sandbox that the AWS check asks for, then points this process at it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Web port (default 8000).")
        parser.add_argument("--sandbox-port", type=int, default=5055, help="AWS sandbox port (default 5055).")
        parser.add_argument(
            "--legacy",
            type=int,
            default=300,
            metavar="N",
            help="Legacy SageMaker resources the sandbox seeds for the tag backfill (default 300).",
        )
        parser.add_argument(
            "--no-processes",
            action="store_true",
            help="Prepare the database and demo data, start nothing (used by tests and by a first check).",
        )

    def handle(self, *args: Any, port: int, sandbox_port: int, legacy: int, no_processes: bool, **options: Any) -> None:
        if legacy < 0:
            raise CommandError(f"--legacy must be 0 or more, not {legacy}.")
        try:
            require_sandbox()
        except SandboxUnavailable as exc:
            raise CommandError(str(exc)) from exc
        for name, number in (("--port", port), ("--sandbox-port", sandbox_port)):
            if not _port_free(number):
                raise CommandError(f"Port {number} on 127.0.0.1 is in use ({name}); stop what uses it or pick another.")
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        endpoint = f"http://127.0.0.1:{sandbox_port}"
        env = {
            **os.environ,
            "DEBUG": "1",
            "AWS_MODE": "sandbox",
            "AWS_ENDPOINT_URL": endpoint,
            # People should see Pending and Deleting in the demo: a few seconds each unless set otherwise.
            "AWS_SANDBOX_LIFECYCLE_SECONDS": os.environ.get("AWS_SANDBOX_LIFECYCLE_SECONDS", "demo"),
            "PYTHONUNBUFFERED": "1",
            # Links in the demo's emails (printed by the worker) point at this web server.
            "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", f"http://127.0.0.1:{port}"),
            # "Log in with SSO" through the sandbox's identity provider (its people: the Identity Center users).
            **{key: os.environ.get(key, value) for key, value in demo_oidc_env(endpoint).items()},
        }
        children: list[tuple[str, subprocess.Popen[bytes]]] = []
        signal.signal(signal.SIGTERM, _raise_interrupt)  # a service manager's stop cleans up like Ctrl-C
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (`&`)

        def start(name: str, command: list[str]) -> None:
            children.append((name, subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)))

        try:
            self.stdout.write("Starting the AWS sandbox and seeding the demo organisation...")
            manifest = Path(settings.VAR_DIR) / "legacy-manifest.json"
            start(
                "sandbox",
                [
                    *manage,
                    "sandbox",
                    "--port",
                    str(sandbox_port),
                    "--legacy",
                    str(legacy),
                    "--legacy-manifest",
                    str(manifest),
                ],
            )
            self._wait_for_sandbox(endpoint, children[0][1])

            # This process talks to the same sandbox from here on, and links in the emails it records while it
            # prepares the demo data point at this demo's web server.
            settings.AWS_MODE, settings.AWS_ENDPOINT_URL = "sandbox", endpoint
            settings.PORTAL_BASE_URL = env["PORTAL_BASE_URL"]
            gateway().clear()
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write("Database migrated.")
            ensure_demo_users()
            setup_app_demos(lambda line: self.stdout.write(line))

            self.stdout.write(self.style.SUCCESS("Demo data ready."))
            self.stdout.write(f"Logins ({DEMO_PASSWORD!r} for each): {', '.join(DEMO_USERS)}")
            if no_processes:
                return
            write_demo_env(
                settings.VAR_DIR,
                {
                    "DEBUG": "1",
                    "DATABASE_URL": settings.DATABASE_URL,
                    "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                    "AWS_MODE": "sandbox",
                    "AWS_ENDPOINT_URL": endpoint,
                    "PORTAL_BASE_URL": env["PORTAL_BASE_URL"],
                },
                pid=os.getpid(),
            )
            celery = [sys.executable, "-m", "celery", "-A", "portal"]
            start(
                "worker",
                [
                    *celery,
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    "2",
                    "--hostname",
                    "demo@%h",
                    "--without-gossip",
                    "--without-mingle",
                ],
            )
            start("beat", [*celery, "beat", "--loglevel", "INFO", "--schedule", str(settings.VAR_DIR / "beat")])
            start("web", [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"])
            self.stdout.write(self.style.SUCCESS(f"Portal on http://127.0.0.1:{port}/ (Ctrl-C stops everything)."))
            self._supervise(children)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping...")
        finally:
            # A second Ctrl-C while stopping must not leave children behind.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self._stop(children)
            remove_demo_env(settings.VAR_DIR, pid=os.getpid())
            self.stdout.write("Stopped.")

    def _wait_for_sandbox(self, endpoint: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CommandError(f"The AWS sandbox stopped at start-up (exit code {process.returncode}).")
            try:
                with urllib.request.urlopen(f"{endpoint}/_sandbox/health", timeout=1) as answer:  # noqa: S310
                    if json.load(answer).get("ok"):
                        return
            except OSError:
                time.sleep(0.2)
        raise CommandError(f"The AWS sandbox did not answer on {endpoint} within {timeout:.0f} s.")

    def _supervise(self, children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
        while True:
            for name, process in children:
                if process.poll() is not None:
                    time.sleep(1)  # after a Ctrl-C, the interrupt lands here and stops everything quietly
                    raise CommandError(f"The demo's {name} process stopped (exit code {process.returncode}).")
            time.sleep(0.5)

    def _stop(self, children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
        for _name, process in reversed(children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, process in reversed(children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
