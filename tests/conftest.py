"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal import sandbox
from portal.aws import gateway


@pytest.fixture
def aws_sandbox(settings: object) -> Iterator[None]:
    """The AWS sandbox in process: every boto3 client the gateway makes talks to it; state starts empty."""
    settings.AWS_MODE = "sandbox"  # type: ignore[attr-defined]
    settings.AWS_ENDPOINT_URL = None  # type: ignore[attr-defined]
    gateway().clear()
    with sandbox.running():
        yield
    gateway().clear()
