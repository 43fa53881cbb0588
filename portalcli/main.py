"""``smgp``: the SageMaker governance portal from a terminal, over its REST API with a personal API token.

Built on click (already a dependency through Celery), httpx and rich. It imports nothing of the portal: everything
goes through ``/api/``, so it works against any portal it can reach. ``smgp login`` stores the portal's URL and a
token in ``~/.config/smgp/config.json`` (``SMGP_CONFIG`` elsewhere), readable by its owner only (0600); ``SMGP_URL``
and ``SMGP_TOKEN`` override the file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

FORMATS = click.Choice(["table", "csv", "json"])
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
console = Console()
errors = Console(stderr=True)

# The columns each list shows in a table or CSV (JSON gives every field). A column the answer lacks is left blank.
COLUMNS: dict[str, list[str]] = {
    "domains": ["domain_id", "name", "auth_mode", "account_id", "region", "status", "profile_count"],
    "profiles": ["id", "name", "domain_id", "status", "owner", "sso_user_value"],
    "spaces": ["id", "name", "domain_id", "sharing_type", "owner_profile_name", "status"],
    "people": ["id", "name", "status", "email", "login", "profiles", "domains"],
    "findings": ["id", "check_id", "severity", "status", "resource_kind", "resource_name", "domain_name"],
    "profile-requests": ["id", "status", "domain_name", "person", "profile_name", "requested_by", "created_at"],
    "space-requests": ["id", "status", "domain_name", "space_name", "requested_by", "created_at"],
}


def _person_row(row: dict[str, Any]) -> dict[str, Any]:
    """A person of /api/people/ with its lists said in one cell each: profile names, and the domains they are in."""
    profiles = row.get("profiles") or []
    return {
        **row,
        "name": row.get("display_name"),
        "login": row.get("portal_login"),
        "status": f"{row.get('status')}, ambiguous" if row.get("ambiguous") else row.get("status"),
        "profiles": ", ".join(p.get("name", "") for p in profiles),
        "domains": ", ".join(sorted({p.get("domain_name", "") for p in profiles})),
    }


# How a list's rows become the cells of a table or CSV (JSON gives the answer as it is).
CELLS: dict[str, Any] = {"people": _person_row}


class CliError(click.ClickException):
    """A failure said in one line, exit code 1."""


def config_path() -> Path:
    explicit = os.environ.get("SMGP_CONFIG")
    if explicit:
        return Path(explicit)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "smgp" / "config.json"


def load_config() -> dict[str, str]:
    path = config_path()
    config: dict[str, str] = {}
    if path.exists():
        try:
            config = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CliError(f"{path} cannot be read ({exc}); run `smgp login` again.")
    if os.environ.get("SMGP_URL"):
        config["url"] = os.environ["SMGP_URL"]
    if os.environ.get("SMGP_TOKEN"):
        config["token"] = os.environ["SMGP_TOKEN"]
    if not config.get("url") or not config.get("token"):
        raise CliError("Not logged in: run `smgp login --url https://portal.example.com` first.")
    return config


def save_config(url: str, token: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"url": url, "token": token}, handle)
    os.chmod(path, 0o600)  # also when the file existed with looser permissions
    return path


class Api:
    """The portal's API at ``url`` with a token; errors become one clear line."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "smgp"}
        if token:
            headers["Authorization"] = f"Token {token}"
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT)

    @classmethod
    def from_config(cls) -> Api:
        config = load_config()
        return cls(config["url"], config["token"])

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(f"Cannot reach {self.url}: {exc}")
        if response.status_code in (401, 403):
            raise CliError(f"The portal refused the call ({response.status_code}): {detail(response)}")
        if response.status_code >= 400 and response.status_code != 404:
            raise CliError(f"{method} {path} answered {response.status_code}: {detail(response)}")
        return response

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self.call("GET", path, params=clean(params))
        if response.status_code == 404:
            raise CliError(f"Not found: {path} ({detail(response)})")
        return response.json()

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = self.call("POST", path, json=payload or {})
        if response.status_code == 404:
            raise CliError(f"Not found, or not yours to act on: {path}")
        return response.json()

    def pages(self, path: str, params: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        """Every row of a paginated list (following ``next``), up to ``limit``."""
        response = self.call("GET", path, params=clean({**params, "page_size": 200}))
        seen = 0
        while True:
            if response.status_code == 404:
                raise NotFoundList(path)
            body = response.json()
            rows = body.get("results", body) if isinstance(body, dict) else body
            for row in rows:
                yield row
                seen += 1
                if limit is not None and seen >= limit:
                    return
            following = body.get("next") if isinstance(body, dict) else None
            if not following:
                return
            response = self.call("GET", following)


class NotFoundList(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def clean(params: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if v not in (None, "", ())}


def detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        if "detail" in body and len(body) == 1:
            return str(body["detail"])
        return "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in body.items())
    return str(body)[:300]


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def output(rows: list[dict[str, Any]], columns: list[str], fmt: str, *, title: str = "") -> None:
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not columns:
        columns = [k for k, v in (rows[0].items() if rows else []) if not isinstance(v, (dict, list))][:8]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([text(row.get(c)) for c in columns])
        click.echo(buffer.getvalue(), nl=False)
        return
    if not rows:
        console.print(f"Nothing to list{f' ({title})' if title else ''}.")
        return
    table = Table(title=title or None)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*[text(row.get(c)) for c in columns])
    console.print(table)


def list_command(resource: str, path: str, title: str, **filters: Any) -> None:
    fmt, limit = filters.pop("fmt"), filters.pop("limit")
    api = Api.from_config()
    try:
        rows = list(api.pages(path, filters, limit))
    except NotFoundList:
        raise CliError(f"This portal has no {path} endpoint (404): it does not offer {resource} yet.")
    if fmt != "json" and resource in CELLS:
        rows = [CELLS[resource](row) for row in rows]
    output(rows, COLUMNS[resource], fmt, title=title)


def common(func: Any) -> Any:
    func = click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)(func)
    func = click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many rows.")(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="smgp")
def cli() -> None:
    """The SageMaker governance portal from a terminal: inventory, findings, requests, costs and syncs."""


@cli.command()
@click.option("--url", required=True, help="The portal's address, e.g. https://portal.example.com")
@click.option("--token", help="An API token made on 'My tokens'; or log in with --username (asks the password).")
@click.option("--username", help="Make a new token with your user name and password (local accounts).")
@click.option("--name", default="smgp CLI", show_default=True, help="The new token's name.")
@click.option("--days", type=click.IntRange(min=1), default=None, help="How long the new token lasts.")
def login(url: str, token: str | None, username: str | None, name: str, days: int | None) -> None:
    """Check a token (or make one) against the portal, then store the URL and token (file mode 0600)."""
    if bool(token) == bool(username):
        raise click.UsageError("Give either --token or --username.")
    if not url.startswith(("http://", "https://")):
        raise click.UsageError("--url must start with http:// or https://")
    if username:
        password = click.prompt("Password", hide_input=True)
        answer = Api(url).call(
            "POST",
            "/api/auth/token/",
            json=clean({"username": username, "password": password, "name": name, "expires_in_days": days}),
        )
        if answer.status_code == 404:
            raise CliError(f"{url} does not look like the portal (no /api/auth/token/).")
        token = answer.json()["token"]
    api = Api(url, token)
    check = api.call("GET", "/api/tokens/", params={"state": "active", "page_size": 1})
    if check.status_code == 404:
        raise CliError(f"{url} does not look like the portal (no /api/tokens/).")
    path = save_config(url, token or "")
    console.print(f"Logged in to {url}; the token is stored in {path} (readable by you only).")


@cli.group()
def domains() -> None:
    """SageMaker domains."""


@domains.command("list")
@click.option("--search", "q", help="Name, id or ARN contains.")
@click.option("--account", help="AWS account id.")
@click.option("--region")
@click.option("--auth-mode", type=click.Choice(["IAM", "SSO"]))
@common
def domains_list(**filters: Any) -> None:
    """List the domains you may see."""
    list_command("domains", "/api/domains/", "Domains", **filters)


@cli.group()
def profiles() -> None:
    """User profiles."""


@profiles.command("list")
@click.option("--search", "q", help="Name, SSO user or owner contains.")
@click.option("--domain", help="A domain id (d-...) or ARN.")
@click.option("--status")
@common
def profiles_list(**filters: Any) -> None:
    """List user profiles."""
    list_command("profiles", "/api/profiles/", "User profiles", **filters)


@cli.group()
def spaces() -> None:
    """Spaces."""


@spaces.command("list")
@click.option("--search", "q")
@click.option("--domain", help="A domain id (d-...) or ARN.")
@click.option("--sharing-type", type=click.Choice(["Private", "Shared"]))
@common
def spaces_list(**filters: Any) -> None:
    """List spaces."""
    list_command("spaces", "/api/spaces/", "Spaces", **filters)


@cli.group()
def people() -> None:
    """The people directory (where the portal has one)."""


@people.command("list")
@click.option("--search", "--q", "q", help="Name, email, Identity Center user name or portal login contains.")
@click.option("--status", type=click.Choice(["active", "left", "ambiguous"]), help="Ambiguous: in an open match.")
@click.option("--domain", help="People with a live profile in this domain: an id (d-...) or ARN.")
@common
def people_list(**filters: Any) -> None:
    """List people: name, status, email, portal login, their profiles and the domains they are in."""
    list_command("people", "/api/people/", "People", **filters)


@cli.group()
def findings() -> None:
    """Governance findings."""


@findings.command("list")
@click.option("--search", "q")
@click.option("--domain", help="A domain id (d-...) or ARN.")
@click.option("--check", help="A check id, e.g. SE-01.")
@click.option("--severity", type=click.Choice(["high", "medium", "low"]))
@click.option("--status", help="open, accepted, resolved...")
@common
def findings_list(**filters: Any) -> None:
    """List findings."""
    list_command("findings", "/api/findings/", "Findings", **filters)


KINDS = {"profile": "profile-requests", "space": "space-requests"}


@cli.group()
def requests() -> None:
    """Profile and space requests."""


@requests.command("list")
@click.option("--kind", type=click.Choice(list(KINDS)), default="profile", show_default=True)
@click.option("--status", help="submitted, approved, rejected, provisioning, ready, failed...")
@click.option("--domain", help="A domain id (d-...) or ARN.")
@click.option("--search", "q")
@common
def requests_list(kind: str, **filters: Any) -> None:
    """List requests."""
    list_command(KINDS[kind], f"/api/{KINDS[kind]}/", f"{kind.title()} requests", **filters)


@requests.command("approve")
@click.argument("request_id", type=int)
@click.option("--kind", type=click.Choice(list(KINDS)), default="profile", show_default=True)
def requests_approve(request_id: int, kind: str) -> None:
    """Approve a request (its domain's approvers and platform admins)."""
    body = Api.from_config().post(f"/api/{KINDS[kind]}/{request_id}/approve/")
    console.print(f"{kind.title()} request {request_id}: {body.get('status', 'approved')}.")


@requests.command("reject")
@click.argument("request_id", type=int)
@click.option("--kind", type=click.Choice(list(KINDS)), default="profile", show_default=True)
@click.option("--reason", required=True, help="Told to the requester.")
def requests_reject(request_id: int, kind: str, reason: str) -> None:
    """Reject a request, with the reason the requester reads."""
    body = Api.from_config().post(f"/api/{KINDS[kind]}/{request_id}/reject/", {"reason": reason})
    console.print(f"{kind.title()} request {request_id}: {body.get('status', 'rejected')}.")


@cli.group()
def costs() -> None:
    """Spend."""


@costs.command("summary")
@click.option("--by", "group", type=click.Choice(["domain", "profile", "space"]), default="domain", show_default=True)
@click.option("--start", help="First day, YYYY-MM-DD (default: this month).")
@click.option("--end", help="Last day, YYYY-MM-DD.")
@click.option("--domain", help="A domain ARN.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def costs_summary(group: str, start: str | None, end: str | None, domain: str | None, fmt: str) -> None:
    """Spend per domain, profile or space over a period, with shares."""
    body = Api.from_config().get("/api/costs/summary/", {"group": group, "start": start, "end": end, "domain": domain})
    if fmt == "json":
        click.echo(json.dumps(body, indent=2, default=str))
        return
    columns = ["name", "domain", "amount", "share"] if group != "domain" else ["name", "amount", "share"]
    output(body["results"], columns, fmt, title=f"Spend by {group}, {body['start']} to {body['end']}")


@cli.group()
def sync() -> None:
    """Inventory syncs."""


@sync.command("start")
@click.option("--domain", help="A domain id (d-...): its approvers may sync it. Without it: everything (admins).")
@click.option("--account")
@click.option("--region")
@click.option("--follow/--no-follow", default=True, show_default=True, help="Show progress until it ends.")
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds between progress checks.")
def sync_start(domain: str | None, account: str | None, region: str | None, follow: bool, interval: float) -> None:
    """Start an inventory sync (or join the one already running for the same scope) and follow its progress."""
    api = Api.from_config()
    run = api.post("/api/sync-runs/", clean({"domain": domain, "account": account, "region": region}))
    console.print(f"Sync run #{run['id']} ({run['scope_label']}): {run['status']}.")
    if not follow:
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        console=errors,
        transient=True,
    ) as progress:
        task = progress.add_task(f"Sync #{run['id']}", total=100)
        while run["status"] in ("queued", "running"):
            progress.update(
                task, completed=run["percent"], description=f"Sync #{run['id']}: {run['message'] or run['status']}"
            )
            time.sleep(interval)
            run = api.get(f"/api/sync-runs/{run['id']}/")
        progress.update(task, completed=100)
    console.print(f"Sync run #{run['id']}: {run['status']}. {run.get('message') or ''}".rstrip())
    for error in run.get("errors") or []:
        errors.print(f"  error: {error.get('scope', '')}: {error.get('message', '')}")
    if run["status"] not in ("succeeded",):
        sys.exit(2)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
