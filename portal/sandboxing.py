"""The portal's one door to the AWS sandbox, opened only in sandbox mode.

The sandbox (the top-level ``awssandbox`` package, moto and flask) is a development tool: it is in the source tree and
the ``sandbox`` extra, never in a production install (``pip install .`` or the Docker image). So the portal imports it
only from the sandbox-mode entry points (``manage.py sandbox``, ``manage.py demo``, the demo data) and only inside
the functions below: importing this module imports nothing of the sandbox.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

INSTALL_HINT = (
    "The AWS sandbox is a development tool and not part of this install: run the portal from its source tree with "
    "the sandbox extra (pip install -e '.[sandbox]', or '.[dev]', which includes it)."
)


class SandboxUnavailable(RuntimeError):
    """The sandbox's code or its dependencies (moto, flask) are not installed here."""


def require_sandbox() -> None:
    """Raise :class:`SandboxUnavailable`, naming the fix, unless ``awssandbox`` and moto can be imported."""
    missing = [name for name in ("awssandbox", "moto", "flask", "authlib") if find_spec(name) is None]
    if missing:
        raise SandboxUnavailable(f"{INSTALL_HINT} Missing: {', '.join(missing)}.")


def demo_inputs() -> Any:
    """What the sandbox's demo organisation takes from the portal: the price table its bill is made of and the
    policy of the portal's role (``awssandbox.organisation.DemoInputs``)."""
    require_sandbox()
    from awssandbox.organisation import DemoInputs
    from portal import pricing
    from portal.iam import portal_role_policy

    return DemoInputs(prices=pricing, portal_role_policy=portal_role_policy())


def demo_oidc_env(sandbox_endpoint: str) -> dict[str, str]:
    """The settings that point the portal at the sandbox's OpenID Connect provider (``awssandbox.idp``), served by
    the sandbox server at ``sandbox_endpoint``: the demo's "Log in with SSO"."""
    require_sandbox()
    from awssandbox import idp

    return {
        "OIDC_ISSUER": f"{sandbox_endpoint}{idp.PREFIX}",
        "OIDC_CLIENT_ID": idp.CLIENT_ID,
        "OIDC_CLIENT_SECRET": idp.CLIENT_SECRET,
        "OIDC_PROVIDER_NAME": "SSO",
    }
