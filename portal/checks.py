"""System checks of the portal's configuration, run by ``manage.py`` commands before they start."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register


@register("portal")
def aws_target(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Sandbox mode without the sandbox's address would reach the real AWS: refuse before anything runs."""
    from portal.aws import aws_target_problem

    problem = aws_target_problem()
    if not problem:
        return []
    return [Error(problem, id="portal.E001")]
