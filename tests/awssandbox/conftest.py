"""Fixtures of the sandbox's contract tests."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["in_process", "http"])
def endpoint(request: pytest.FixtureRequest) -> str | None:
    """Each test runs against the in-process sandbox and against the loopback server with plain boto3 clients."""
    if request.param == "in_process":
        request.getfixturevalue("aws_sandbox")
        return None
    return request.getfixturevalue("sandbox_server")
