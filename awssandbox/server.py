"""The AWS sandbox as an HTTP server on 127.0.0.1, for the demo and for tests that need another process to reach it.

Everything moto serves is served, plus a small control API under ``/_sandbox/``:

- ``GET /_sandbox/health``: ``{"ok": true}`` once the server answers.
- ``GET /_sandbox/faults``: the fault rules in force; ``POST`` one rule as JSON (see :mod:`awssandbox.faults`);
  ``DELETE`` clears them all.
- ``GET /_sandbox/limits``: whether rate limits are on, the limits and the buckets; ``POST``
  ``{"enabled": true, "limits": [{"service", "family", "rate", "burst"}]}`` (either key) changes them and refills
  the buckets; ``DELETE`` turns them off with the default limits (see :mod:`awssandbox.limits`).
- ``POST /_sandbox/ce/page-size``: ``{"account": "<payer>", "rows": N}`` sets how many rows a Cost Explorer page holds.
- ``GET /_sandbox/clock``: the sandbox's time and how long each lifecycle transition takes (``app.delete``...);
  ``POST`` ``{"seconds": {"app.delete": 20}, "advance": 60}`` sets durations and/or moves the time forward;
  ``DELETE`` goes back to the defaults (the demo's setting) and real time (see :mod:`awssandbox.clock`).
- ``GET /_sandbox/studio/auth?token=...``: where CreatePresignedDomainUrl's URL leads over HTTP, a "Studio (sandbox)"
  page naming the domain, profile and space; a token opens it once before it expires, else 403 with the reason
  (see :mod:`awssandbox.studiopage`).
- ``/_idp/...``: the organisation's OpenID Connect provider over the sandbox's Identity Center users
  (see :mod:`awssandbox.idp`): discovery, JWKS, a login form, token and userinfo.
- ``POST /_sandbox/reset``: empty every backend, clear the faults and reset the clock (the rate limits stay as
  configured, their buckets full again); with ``?seed=demo`` the demo
  organisation is seeded again (a server made with the demo's inputs only).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

import awssandbox
from awssandbox import ce, faults, idp, limits, studiopage
from awssandbox.clock import ClockError, clock
from awssandbox.organisation import DemoInputs

CONTROL_PREFIX = "/_sandbox/"


def reset_backends() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    faults.registry.clear()
    clock.reset()
    studiopage.tokens.clear()
    idp.store.reset()
    limits.registry.configure()  # full buckets again; the limits and whether they are on stay as configured


def seed_demo(inputs: DemoInputs) -> dict[str, Any]:
    from awssandbox import organisation

    return organisation.seed(inputs)


class SandboxApp:
    """WSGI: the control API in front of moto's dispatcher. ``demo`` is what ``POST /_sandbox/reset?seed=demo``
    seeds the demo organisation with (without it, that reset answers 400)."""

    def __init__(self, demo: DemoInputs | None = None) -> None:
        awssandbox.install()
        self.demo = demo
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.lock = threading.Lock()
        self.idp = idp.create_app()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == studiopage.PAGE_PATH:
            return self.studio_page(Request(environ))(environ, start_response)
        if path == idp.PREFIX or path.startswith(idp.PREFIX + "/"):
            return self.idp(environ, start_response)
        if path.startswith(CONTROL_PREFIX):
            return self.control(Request(environ))(environ, start_response)
        # CreatePresignedDomainUrl answers a URL on this server, at the address the client used to reach it.
        base = studiopage.server_base.set(f"{environ.get('wsgi.url_scheme', 'http')}://{_host(environ)}")
        try:
            return self.moto(environ, start_response)
        finally:
            studiopage.server_base.reset(base)

    def studio_page(self, request: Request) -> Response:
        if request.method != "GET":  # a HEAD would spend the one-time token without showing the page
            return Response("Method not allowed.", status=405, mimetype="text/plain", headers={"Allow": "GET"})
        answer = studiopage.open_token(request.args.get("token", ""))
        return Response(
            answer.html(),
            status=answer.status,
            mimetype="text/html",
            headers={
                "Content-Security-Policy": studiopage.PAGE_CSP,
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
            },
        )

    def control(self, request: Request) -> Response:
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        try:
            if name == "health":
                return _json({"ok": True})
            if name == "faults":
                if request.method == "GET":
                    return _json({"faults": faults.registry.rules()})
                if request.method == "POST":
                    spec = request.get_json(force=True, silent=True)
                    if not isinstance(spec, dict):
                        return _json({"error": "Send one fault rule as a JSON object."}, 400)
                    rule = faults.registry.add(**spec)
                    return _json({"added": rule.__dict__}, 201)
                if request.method == "DELETE":
                    faults.registry.clear()
                    return _json({"faults": []})
            if name == "clock":
                if request.method == "POST":
                    spec = request.get_json(force=True, silent=True)
                    if not isinstance(spec, dict) or not set(spec) <= {"seconds", "advance"}:
                        return _json({"error": 'Send {"seconds": {"app.delete": 20}} and/or {"advance": 60}.'}, 400)
                    if "seconds" in spec:
                        clock.set(spec["seconds"])
                    if "advance" in spec:
                        clock.advance(spec["advance"])
                elif request.method == "DELETE":
                    clock.reset()
                return _json(clock.as_json())
            if name == "limits":
                if request.method == "GET":
                    return _json(limits.registry.describe())
                if request.method == "POST":
                    spec = request.get_json(force=True, silent=True)
                    if not isinstance(spec, dict) or not set(spec) <= {"enabled", "limits"} or not spec:
                        return _json({"error": 'Send {"enabled": true|false, "limits": [...]} as a JSON object.'}, 400)
                    limits.registry.configure(enabled=spec.get("enabled"), limits=spec.get("limits"))
                    return _json(limits.registry.describe())
                if request.method == "DELETE":
                    limits.registry.reset()
                    return _json(limits.registry.describe())
            if name == "ce/page-size" and request.method == "POST":
                spec = request.get_json(force=True, silent=True)
                if not isinstance(spec, dict) or set(spec) != {"account", "rows"}:
                    return _json({"error": 'Send {"account": "<payer account id>", "rows": N} as a JSON object.'}, 400)
                account, rows = spec["account"], spec["rows"]
                if not isinstance(account, str) or not account.isdigit() or len(account) != 12:
                    return _json({"error": f"account must be a 12-digit account id, not {account!r}."}, 400)
                if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= 5000:
                    return _json({"error": f"rows must be a whole number from 1 to 5000, not {rows!r}."}, 400)
                ce.set_page_size(account, rows)
                return _json({"account": account, "rows": rows})
            if name == "reset" and request.method == "POST":
                if request.args.get("seed") == "demo" and self.demo is None:
                    return _json({"error": "This sandbox was started without the demo organisation's inputs."}, 400)
                with self.lock:
                    reset_backends()
                    summary = (
                        seed_demo(self.demo) if self.demo is not None and request.args.get("seed") == "demo" else {}
                    )
                return _json({"reset": True, "seeded": summary})
        except (faults.FaultError, ClockError, limits.LimitError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"error": f"No control endpoint {request.method} {request.path}."}, 404)


def _host(environ: dict[str, Any]) -> str:
    host = environ.get("HTTP_HOST")
    if host:
        return host
    return f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, default=str), status=status, mimetype="application/json")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per AWS call would drown the demo output
        pass


def make_sandbox_server(port: int = 0, host: str = "127.0.0.1", *, demo: DemoInputs | None = None) -> BaseWSGIServer:
    """A threaded server bound to ``host:port`` (0 picks a free port); call ``serve_forever()`` on it."""
    return make_server(host, port, SandboxApp(demo), threaded=True, request_handler=_QuietHandler)


class ThreadedSandbox:
    """The sandbox server in a background thread of this process (tests that start a worker use it)."""

    def __init__(self, port: int = 0, *, demo: DemoInputs | None = None) -> None:
        self.server = make_sandbox_server(port, demo=demo)
        self.thread = threading.Thread(target=self.server.serve_forever, name="aws-sandbox", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ThreadedSandbox:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
