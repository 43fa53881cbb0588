"""IAM in the sandbox: SimulatePrincipalPolicy and SimulateCustomPolicy on moto's IAM, and AWS managed policies.

moto 5.2.5 has roles, users, groups, inline, attached and boundary policies but no policy simulator. The two
operations are added to :class:`moto.iam.responses.IamResponse` (so they answer in process and over HTTP alike) and
decided by :mod:`awssandbox.iampolicy`, which knows nothing of moto.

AWS managed policies: moto carries their documents (``moto.iam.aws_managed_policies``) but loads all ~1,400 of them
into every account only with ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``, which makes each new account's IAM backend
parse 4 MB of JSON. :func:`ensure_aws_managed_policy` loads just the ones the sandbox attaches, from the same data.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

from moto.core.responses import ActionResult
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.exceptions import InvalidInput, NotFoundException
from moto.iam.models import AWSManagedPolicy, IAMBackend, ManagedPolicy, iam_backends
from moto.iam.responses import IamResponse

from awssandbox import iampolicy

DEFAULT_MAX_ITEMS = 100  # IAM API reference, SimulatePrincipalPolicy MaxItems: "defaults to 100"

# ASSUMED (IAM API reference, SimulatePrincipalPolicy, is silent): AWS fills these keys from the principal when
# the caller does not pass them, the way the policy simulator console does.
PRINCIPAL_KEYS = ("aws:PrincipalArn", "aws:PrincipalAccount")


@lru_cache(maxsize=1)
def _aws_managed_data() -> dict[str, Any]:
    return json.loads(aws_managed_policies_data)


def aws_managed_policy_arn(name: str) -> str:
    data = _aws_managed_data()[name]
    return f"arn:aws:iam::aws:policy{data.get('Path', '/')}{name}"


def ensure_aws_managed_policy(backend: IAMBackend, name: str) -> ManagedPolicy:
    """The AWS managed policy ``name`` in this account's IAM, loaded from moto's copy of AWS's documents."""
    arn = aws_managed_policy_arn(name)
    if arn not in backend.managed_policies:
        policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, _aws_managed_data()[name])
        backend.aws_managed_policies.append(policy)
        backend.managed_policies[arn] = policy
    return backend.managed_policies[arn]


def _default_document(policy: ManagedPolicy) -> str:
    return next(v.document for v in policy.versions if v.version_id == policy.default_version_id)


def _managed(policy: ManagedPolicy) -> iampolicy.Policy:
    kind = "aws-managed" if isinstance(policy, AWSManagedPolicy) else "user-managed"
    return iampolicy.Policy(_default_document(policy), policy.arn, kind)


class Exclusions:
    """SimulatePrincipalPolicy's PolicyExclusionList, a tagged union per item: a whole PolicyType (inline,
    aws-managed, user-managed, permission-boundary), one managed PolicyArn, or one InlinePolicyIdentifier."""

    def __init__(self, identifiers: list[dict[str, Any]] | None) -> None:
        self.types: set[str] = set()
        self.arns: set[str] = set()
        self.inline: list[dict[str, Any]] = []
        for identifier in identifiers or []:
            if identifier.get("PolicyType"):
                self.types.add(identifier["PolicyType"])
            elif identifier.get("PolicyArn"):
                self.arns.add(identifier["PolicyArn"])
            elif identifier.get("InlinePolicyIdentifier"):
                self.inline.append(identifier["InlinePolicyIdentifier"])

    @property
    def boundary(self) -> bool:
        return "permission-boundary" in self.types

    def keeps_managed(self, policy: ManagedPolicy) -> bool:
        kind = "aws-managed" if isinstance(policy, AWSManagedPolicy) else "user-managed"
        return kind not in self.types and policy.arn not in self.arns

    def keeps_inline(self, name: str, holder_type: str, holder_name: str) -> bool:
        if "inline" in self.types:
            return False
        for rule in self.inline:
            if rule.get("PolicyName") != name:
                continue
            if rule.get("AttachmentType") and rule["AttachmentType"].lower() != holder_type:
                continue
            if rule.get("AttachmentName") and rule["AttachmentName"] != holder_name:
                continue
            return False
        return True


def principal_policies(
    backend: IAMBackend, arn: str, excluded: Exclusions
) -> tuple[list[iampolicy.Policy], list[iampolicy.Policy] | None]:
    """A user's or role's identity policies (a user's groups' too) and its permissions boundary, if any."""
    kind, _, rest = arn.partition(":iam::")[2].partition(":")[2].partition("/")
    name = rest.rsplit("/", 1)[-1]
    if kind == "role":
        principal = next((r for r in backend.roles.values() if r.name == name), None)
        source_type = "role"
    elif kind == "user":
        principal = backend.users.get(name)
        source_type = "user"
    elif kind == "group":
        principal = backend.groups.get(name)
        source_type = "group"
    else:
        raise InvalidInput(f"PolicySourceArn {arn} is not a user, group or role.")
    if principal is None:
        raise NotFoundException(f"The {kind} with name {name} cannot be found.")
    policies = [
        iampolicy.Policy(doc, policy_name, source_type)
        for policy_name, doc in principal.policies.items()
        if excluded.keeps_inline(policy_name, source_type, name)
    ]
    policies += [_managed(p) for p in principal.managed_policies.values() if excluded.keeps_managed(p)]
    if kind == "user":
        for group in backend.get_groups_for_user(name):
            policies += [
                iampolicy.Policy(doc, n, "group")
                for n, doc in group.policies.items()
                if excluded.keeps_inline(n, "group", group.name)
            ]
            policies += [_managed(p) for p in group.managed_policies.values() if excluded.keeps_managed(p)]
    boundary_arn = None if excluded.boundary else getattr(principal, "permissions_boundary_arn", None)
    boundary = None
    if boundary_arn:
        if boundary_arn not in backend.managed_policies:
            raise NotFoundException(f"Policy {boundary_arn} not found")
        boundary = [_managed(backend.managed_policies[boundary_arn])]
    return policies, boundary


def _inputs(documents: list[str] | None, prefix: str) -> list[iampolicy.Policy]:
    return [iampolicy.Policy(doc, f"{prefix}.{n}", "none") for n, doc in enumerate(documents or [], start=1)]


def _context(entries: list[dict[str, Any]] | None) -> dict[str, list[str]]:
    context: dict[str, list[str]] = {}
    for entry in entries or []:
        name = entry.get("ContextKeyName")
        if not name:
            raise InvalidInput("Each ContextEntries item needs a ContextKeyName.")
        context[name] = [str(v) for v in entry.get("ContextKeyValues") or []]
    return context


def _page(self: IamResponse, evaluations: list[iampolicy.Evaluation]) -> ActionResult:
    max_items = self._get_param("MaxItems") or DEFAULT_MAX_ITEMS
    max_items = int(max_items)
    if not 1 <= max_items <= 1000:
        raise InvalidInput("MaxItems must be between 1 and 1000.")
    marker = self._get_param("Marker")
    start = 0
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(marker.encode()).decode())
        except ValueError as exc:
            raise InvalidInput("Marker is not valid.") from exc
        if not 0 <= start <= len(evaluations):
            raise InvalidInput("Marker is not valid.")
    chunk = evaluations[start : start + max_items]
    result: dict[str, Any] = {"EvaluationResults": [e.as_result() for e in chunk]}
    end = start + len(chunk)
    result["IsTruncated"] = end < len(evaluations)
    if result["IsTruncated"]:
        result["Marker"] = base64.urlsafe_b64encode(str(end).encode()).decode()
    return ActionResult(result)


def _simulate(
    self: IamResponse,
    identity: list[iampolicy.Policy],
    boundary: list[iampolicy.Policy] | None,
    context: dict[str, list[str]],
) -> ActionResult:
    actions = self._get_param("ActionNames") or []
    if not actions:
        raise InvalidInput("ActionNames must name at least one action.")
    if self._get_param("ResourcePolicy"):
        # The evaluator covers identity policies and boundaries only; refusing beats a silently wrong decision.
        raise InvalidInput("The sandbox's policy simulator does not evaluate ResourcePolicy.")
    override = self._get_param("PermissionsBoundaryPolicyInputList")
    if override:
        boundary = _inputs(override, "PermissionsBoundaryPolicyInputList")
    try:
        evaluations = iampolicy.simulate(
            actions, self._get_param("ResourceArns"), identity, boundary_policies=boundary, context=context
        )
    except iampolicy.PolicyError as exc:
        raise InvalidInput(str(exc)) from exc
    return _page(self, evaluations)


def simulate_principal_policy(self: IamResponse) -> ActionResult:
    source = self._get_param("PolicySourceArn")
    excluded = Exclusions(self._get_param("PolicyExclusionList"))
    identity, boundary = principal_policies(self.backend, source, excluded)
    identity += _inputs(self._get_param("PolicyInputList"), "PolicyInputList")
    context = _context(self._get_param("ContextEntries"))
    lowered = {k.lower() for k in context}
    defaults = {
        "aws:PrincipalArn": [self._get_param("CallerArn") or source],
        "aws:PrincipalAccount": [source.split(":")[4]],
    }
    for key in PRINCIPAL_KEYS:
        if key.lower() not in lowered:
            context[key] = defaults[key]
    return _simulate(self, identity, boundary, context)


def simulate_custom_policy(self: IamResponse) -> ActionResult:
    identity = _inputs(self._get_param("PolicyInputList"), "PolicyInputList")
    if not identity:
        raise InvalidInput("PolicyInputList must hold at least one policy.")
    return _simulate(self, identity, None, _context(self._get_param("ContextEntries")))


def install() -> None:
    IamResponse.simulate_principal_policy = simulate_principal_policy  # type: ignore[attr-defined]
    IamResponse.simulate_custom_policy = simulate_custom_policy  # type: ignore[attr-defined]


def backend(account_id: str) -> IAMBackend:
    return iam_backends[account_id]["aws"]
