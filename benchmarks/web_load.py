"""Benchmark: the web tier under load. gunicorn (2 sync workers) on PostgreSQL with the 1x cost data set, and a
bounded load generator on loopback (threads, the standard library's HTTP client, no new dependency).

It builds a throw-away test database from the DATABASE_URL name (30 domains, 3,000 profiles, 13 months of daily
cost records ingested by the portal's own ingestion: benchmarks/costs_dashboard.py's generated Cost Explorer), logs
a finance user in, starts gunicorn on 127.0.0.1, and for each page and each number of concurrent clients sends
requests for ``--seconds`` (each client waits for its answer before sending the next: closed loop). It prints req/s
and p50/p95/p99 latency per (page, clients), errors if any, and the target for the dashboard at 50 clients.

    DATABASE_URL=postgres://... [REDIS_URL=redis://.../12] python benchmarks/web_load.py [--seconds 30]
        [--clients 1,10,50] [--scale 1] [--workers 2] [--profile]

``--compare-uncached`` runs the dashboard again with the figures' cache off (each request computes them, as
before the cache), on the same machine at the same moment: the ratio holds when the machine is busy.
``--profile`` prints a pyinstrument profile of the dashboard's server side (in this process, cached figures).
The generator itself takes CPU on the same machine: its figures are a floor of what a separate load machine sees.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import costs_dashboard as data  # noqa: E402  (sets Django up with the test settings)
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from costs.ingest import history_start  # noqa: E402
from portal.roles import do_assign_role  # noqa: E402

PAGES = {"cost dashboard": "/costs/", "profile list": "/profiles/", "api profiles": "/api/profiles/"}
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))] if ordered else 0.0


def load(port: int, path: str, cookie: str, clients: int, seconds: float) -> dict[str, float]:
    """``clients`` threads, each sending one request after the other for ``seconds``; latencies in ms."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.perf_counter() + seconds
    headers = {"Cookie": cookie, "Host": "127.0.0.1"}

    def client(index: int) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                conn.close()
                ok = response.status == 200
            except OSError:
                ok = False
            if ok:
                latencies[index].append((time.perf_counter() - started) * 1000)
            else:
                errors[index] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    done = [value for values in latencies for value in values]
    return {
        "requests": len(done),
        "errors": sum(errors),
        "rps": len(done) / elapsed,
        "p50": percentile(done, 50),
        "p95": percentile(done, 95),
        "p99": percentile(done, 99),
    }


def wait_until_up(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start: exit {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within a minute")


def build(scale: float) -> str:
    """The 1x data set (or ``scale``) ingested, a finance login; returns its session cookie."""
    profiles = max(1, round(data.FULL_PROFILES * scale))
    payer, arns = data.build_inventory(profiles)
    today = timezone.localdate()
    started = time.perf_counter()
    counts = data.ingest_window(payer, data.GeneratedCostExplorer(arns), history_start(today), today)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE costs_costrecord")
        cursor.execute("VACUUM ANALYZE costs_spendrollup")
        cursor.execute("VACUUM ANALYZE profiles_userprofile")
    elapsed = time.perf_counter() - started
    print(f"   {profiles:,} profiles, {counts['created']:,} cost records ingested in {elapsed:.1f} s")
    user, _ = get_user_model().objects.get_or_create(username="load-finance")
    do_assign_role(user, "finance", actor="benchmark")
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def profile_dashboard() -> None:
    from pyinstrument import Profiler

    user = get_user_model().objects.get(username="load-finance")
    client = Client()
    client.force_login(user)
    client.get("/costs/")
    profiler = Profiler()
    with profiler:
        for _ in range(30):
            client.get("/costs/")
    print(profiler.output_text(unicode=False, color=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="per page and number of clients (default 30)")
    parser.add_argument("--clients", default="1,10,50", help="numbers of concurrent clients (default 1,10,50)")
    parser.add_argument("--scale", type=float, default=1.0, help="data set size, in 3,000 profiles (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--pages", default=",".join(PAGES), help="which pages (default all three)")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the dashboard")
    parser.add_argument(
        "--compare-uncached", action="store_true", help="run the dashboard again with its figures' cache off"
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.clients.split(",")]
    pages = [name.strip() for name in args.pages.split(",")]
    setup_test_environment()
    settings.DEBUG = False
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    server = None
    try:
        print(
            f"Database: {connection.vendor} {connection.settings_dict['NAME']}; cache of cost figures: "
            f"{settings.CACHES['costs']['BACKEND'].rsplit('.', 1)[-1]}"
        )
        cookie = build(args.scale)
        if args.profile:
            profile_dashboard()
        runs = [("", {}, pages)]
        if args.compare_uncached:
            runs.append((" (cache off)", {"COST_FIGURES_CACHE_SECONDS": "0"}, ["cost dashboard"]))
        results = {}
        for suffix, extra_env, run_pages in runs:
            port = free_port()
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "PORTAL_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
                "DEBUG": "0",
                **extra_env,
            }
            command = [
                sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--workers", str(args.workers),
                "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--backlog", "2048",
            ]  # fmt: skip
            server = subprocess.Popen(command, cwd=ROOT, env=env)
            wait_until_up(port, server)
            print(f"\n   gunicorn{suffix}: {args.workers} sync workers on 127.0.0.1:{port}, {args.seconds:.0f} s a run")
            print(f"   {'page':<16} {'clients':>7} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99':>8}")
            for name in run_pages:
                for clients in counts:
                    load(port, PAGES[name], cookie, min(clients, 4), 1)  # warm each worker's caches
                    result = load(port, PAGES[name], cookie, clients, args.seconds)
                    results[(name + suffix, clients)] = result
                    errors = f"  ({result['errors']} errors)" if result["errors"] else ""
                    print(
                        f"   {name:<16} {clients:>7} {result['requests']:>9} {result['rps']:>8.1f} "
                        f"{result['p50']:>8.1f} {result['p95']:>8.1f} {result['p99']:>8.1f}{errors}"
                    )
            server.terminate()
            server.wait(timeout=30)
            server = None
        print(f"\n   machine load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        top = results.get(("cost dashboard", 50))
        if top:
            print("\n== target")
            print(
                f"   dashboard at 50 clients: {top['rps']:.1f} req/s (target >= {4 * 37} req/s, 4x 37) and p95 "
                f"{top['p95']:.0f} ms (target < 500 ms) -> "
                f"{'met' if top['rps'] >= 4 * 37 and top['p95'] < 500 else 'MISSED'}"
            )
            off = results.get(("cost dashboard (cache off)", 50))
            if off:
                print(f"   against the cache off on the same machine and moment: {top['rps'] / off['rps']:.1f}x req/s")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
