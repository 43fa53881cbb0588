from __future__ import annotations

import pytest

from portal.models import TaskRun
from tests.iamaccess.world import review_all, role_arn, seed_demo

__all__ = ["role_arn"]


@pytest.fixture
def demo(aws_sandbox: None) -> None:
    seed_demo()


@pytest.fixture
def reviewed(demo: None) -> TaskRun:
    return review_all()
