"""What a change set is made of, before it exists: the planned AWS calls, each with the values it changes.

Anything that proposes a change (a governance fix, an admin editing a profile's settings) builds a list of
:class:`PlannedChange` and hands it to the change-set service, which validates it, stores it for approval and,
once approved, applies it call by call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

OPERATIONS = (
    "UpdateDomain",
    "UpdateUserProfile",
    "UpdateSpace",
    "AddTags",
    "DeleteApp",
    "PutRolePolicy",
    "DeleteRolePolicy",
)
RESOURCE_KINDS = ("domain", "profile", "space", "app", "role")
# IAM operations: the portal's own inline policy on a SageMaker execution role of the domain's account, written only
# where that account's switch (``AwsAccount.portal_writes_iam``) is on. ``after`` is ``{"PolicyDocument": {...}}``
# (``None`` for DeleteRolePolicy); the applier stores the document it found before the call in ``before``, which
# is what a revert puts back.
IAM_OPERATIONS = ("PutRolePolicy", "DeleteRolePolicy")
PORTAL_POLICY_PREFIX = "sagemaker-portal-"


@dataclass(frozen=True)
class PlannedChange:
    """One AWS call of a change set.

    ``request`` holds the exact keyword arguments of the boto3 call (JSON-able, e.g. ``{"DomainId": ...,
    "DefaultUserSettings": {...}}``); ``before`` and ``after`` map a readable field path (e.g.
    ``"DefaultUserSettings.JupyterLabAppSettings.AppLifecycleManagement.IdleSettings.LifecycleManagement"``) to its
    value before and after the call. ``restarts`` names the ARNs of running apps that pick the change up only after
    a restart; ``needs_no_running_apps`` marks a change AWS accepts only while no app of the domain is InService,
    Pending or Deleting (network and execution-identity changes); ``monthly_saving`` is the estimated saving in USD
    where cost is involved.

    Paths in ``before`` and ``after`` are read from the resource's Describe answer (``DefaultUserSettings.X`` and
    ``DomainSettings.X`` on a domain, ``UserSettings.X`` on a profile, ``SpaceSettings.X`` on a space, ``Status``
    on an app; ``Tags.<key>`` reads a tag; ``PolicyDocument`` is a role's inline policy, ``None`` when absent).
    The apply task compares ``after`` with what AWS has before calling, so a change already made is not made again.
    ``after`` is required except for DeleteApp (``{"Status": "Deleted"}``) and DeleteRolePolicy.
    """

    operation: str
    resource_arn: str
    resource_kind: str
    request: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    restarts: tuple[str, ...] = ()
    needs_no_running_apps: bool = False
    monthly_saving: Decimal | None = None

    def __post_init__(self) -> None:
        if self.operation not in OPERATIONS:
            raise ValueError(f"Unknown operation {self.operation!r}; expected one of {', '.join(OPERATIONS)}.")
        if self.resource_kind not in RESOURCE_KINDS:
            raise ValueError(f"Unknown resource kind {self.resource_kind!r}.")
