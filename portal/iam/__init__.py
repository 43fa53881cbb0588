"""What the portal needs from IAM in each account it governs.

``portal-role-policy.json`` is the policy of the portal's role: the read-only statements (Sid ``ReadOnly*``) cover
inventory, costs and the governance checks, the write statements (Sid ``Write*``) onboarding and offboarding. The
README shows it and a test holds it to IAM's limits.
"""

from __future__ import annotations

import json
from pathlib import Path

POLICY_PATH = Path(__file__).with_name("portal-role-policy.json")
MANAGED_POLICY_LIMIT = 6144  # characters, white space not counted (IAM user guide, reference_iam-quotas.html)


def portal_role_policy() -> str:
    """The policy document, as written in the file."""
    return POLICY_PATH.read_text()


def portal_role_statements(prefix: str) -> list[dict[str, object]]:
    """The statements whose Sid starts with ``prefix`` (``ReadOnly`` or ``Write``)."""
    return [s for s in json.loads(portal_role_policy())["Statement"] if s["Sid"].startswith(prefix)]
