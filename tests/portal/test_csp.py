"""The Content-Security-Policy header: strict on the portal's pages; inline styles only on the API's third-party
HTML pages (browsable API, Swagger UI); inline scripts nowhere."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def test_the_portals_pages_get_the_strict_policy(client: Client) -> None:
    client.force_login(UserFactory())
    policy = directives(client.get("/").headers["Content-Security-Policy"])
    assert policy["script-src"] == "script-src 'self'" and policy["style-src"] == "style-src 'self'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'" and policy["object-src"] == "object-src 'none'"


def test_the_api_pages_of_other_packages_may_use_inline_styles_only(client: Client) -> None:
    client.force_login(UserFactory())
    html = client.get("/api/docs/").headers["Content-Security-Policy"]
    assert "'unsafe-inline'" in directives(html)["style-src"]
    assert directives(html)["script-src"] == "script-src 'self'"
    browsable = client.get("/api/domains/", HTTP_ACCEPT="text/html").headers["Content-Security-Policy"]
    assert "'unsafe-inline'" in directives(browsable)["style-src"]
    as_json = client.get("/api/domains/").headers["Content-Security-Policy"]
    assert directives(as_json)["style-src"] == "style-src 'self'"


def test_no_template_of_the_portal_has_inline_script_style_or_handler() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|<style|\sstyle=|\son[a-z]+=|hx-on|javascript:"
    )
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*.html")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if inline.search(line)
    ]
    assert offenders == []
