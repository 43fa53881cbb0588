"""A generated policy for one role and domain: the document, its validation and downloads, and "simulate with this
policy": the role's probes asked again with the policy added (SimulatePrincipalPolicy's PolicyInputList), what it
would change, which of the role's findings it would close, and what it would newly deny that the role's profiles and
spaces used in the last :data:`RECENT_DAYS` days (the apps the inventory saw: app type and instance type).

Where the role's account lets the portal write IAM (``AwsAccount.portal_writes_iam``), :func:`propose` turns the
policy into a change set: ``iam:PutRolePolicy`` of an inline policy the portal names (``sagemaker-portal-<kind>-<domain
id>``), approved by another approver and applied by the change-set worker. An inline policy rather than a new version
of a customer-managed policy: it needs no attach step and no version housekeeping (IAM keeps at most five versions),
it lives and dies with the role, and the document it replaces (none, the first time) is exactly what a revert puts
back."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from changesets import services as changesets
from changesets.models import ChangeSet
from changesets.planning import PORTAL_POLICY_PREFIX, PlannedChange
from domains.models import Domain
from iamaccess import access, generator, reader, review, simulate
from iamaccess import probes as probing
from iamaccess.models import ExecutionRole, RoleUse
from portal.scoping import APPROVE, grants_for
from profiles import effective
from profiles.models import App, UserProfile

RECENT_DAYS = 30

INSTANCE_TYPE_RE = re.compile(r"^(system|ml\.[a-z0-9*?-]+(\.[a-z0-9*?-]+)*)$")
DEFAULT_INSTANCE_TYPES = ("system", "ml.t3.*", "ml.m5.*")


def instance_types_of(value: Any) -> tuple[str, ...]:
    """A team's instance types from a list or a comma-separated text; wildcards allowed (``ml.t3.*``)."""
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    found = tuple(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))
    bad = [i for i in found if not INSTANCE_TYPE_RE.match(i)]
    if bad:
        raise ValidationError(f"Not an instance type (e.g. ml.t3.medium, ml.g5.*, system): {', '.join(bad)}.")
    if len(found) > 50:
        raise ValidationError("At most 50 instance types.")
    return found or DEFAULT_INSTANCE_TYPES


def team_instance_types(role: ExecutionRole, domain: Domain) -> tuple[str, ...]:
    """The allowed instance types of the domain's persona that uses this role, if there is one."""
    from onboarding.models import PersonaTemplate

    persona = PersonaTemplate.objects.filter(domain=domain, execution_role=role.arn).order_by("name").first()
    return tuple(persona.allowed_instance_types or ()) if persona else DEFAULT_INSTANCE_TYPES


@dataclass
class Proposal:
    role: ExecutionRole
    domain: Domain
    kind: str
    params: generator.Params
    document: dict[str, Any]
    validation: generator.Validation
    simulation: dict[str, Any] | None = field(default=None)

    @property
    def title(self) -> str:
        return generator.KINDS[self.kind]

    @property
    def text(self) -> str:
        import json

        return json.dumps(self.document, indent=2)

    @property
    def terraform(self) -> str:
        return generator.as_terraform(self.kind, self.params, self.document)

    @property
    def cloudformation(self) -> str:
        return generator.as_cloudformation(self.kind, self.params, self.document)


def hidden_for(role: ExecutionRole, domain: Domain) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The app types and ML tools the Studio UI hides from the profiles this role acts for in the domain (every
    profile of the domain when the role is its shared-space role: anyone may work in a shared space), and those
    the domain's personas with this role hide: what policy (e) denies."""
    from onboarding.models import PersonaTemplate

    uses = RoleUse.objects.filter(role=role, domain=domain)
    profiles = UserProfile.objects.filter(domain=domain, removed_at__isnull=True)
    if not uses.filter(kind=RoleUse.Kind.SPACE_DEFAULT).exists():
        profiles = profiles.filter(pk__in=uses.filter(profile__isnull=False).values("profile_id"))
    apps: dict[str, None] = {}
    tools: dict[str, None] = {}
    for snapshot in profiles.values_list("settings_snapshot", flat=True):
        values = effective.profile_settings(domain.settings_snapshot, snapshot or {})
        apps.update(dict.fromkeys(values["HiddenAppTypes"].value or []))
        tools.update(dict.fromkeys(values["HiddenMlTools"].value or []))
    for hidden_apps, hidden_tools in PersonaTemplate.objects.filter(domain=domain, execution_role=role.arn).values_list(
        "hidden_app_types", "hidden_ml_tools"
    ):
        apps.update(dict.fromkeys(hidden_apps or []))
        tools.update(dict.fromkeys(hidden_tools or []))
    return tuple(sorted(apps)), tuple(sorted(tools))


def build(role: ExecutionRole, domain: Domain, kind: str, instance_types: tuple[str, ...]) -> Proposal:
    if kind not in generator.KINDS:
        raise ValidationError(f"Choose a policy: {', '.join(generator.KINDS)}.")
    hidden_apps, hidden_tools = hidden_for(role, domain) if kind == "hidden" else ((), ())
    params = generator.Params(
        domain_arn=domain.arn,
        domain_id=domain.domain_id,
        account_id=domain.account.account_id,
        region=domain.region,
        new_studio=domain.studio_experience != Domain.StudioExperience.CLASSIC,
        instance_types=instance_types,
        hidden_app_types=hidden_apps,
        hidden_ml_tools=hidden_tools,
    )
    try:
        document = generator.generate(kind, params)
    except generator.PolicyError as exc:
        raise ValidationError(str(exc)) from exc
    return Proposal(role, domain, kind, params, document, generator.validate(document, params))


def simulate_proposal(proposal: Proposal, user: Any) -> dict[str, Any]:
    """The role's probes for the domain asked again with the proposed policy added: what changes and which of the
    role's open findings would close (every leaking probe its evidence names is then denied)."""
    role, domain = proposal.role, proposal.domain
    if role.account is None or role.read_error or not role.policy_hash:
        raise ValidationError("This role has not been read from IAM: run an IAM review first.")
    targets = [t for t in review.targets_of([role.pk]).get(role.pk, []) if t.domain_id == domain.domain_id]
    probe_list = probing.probe_set(targets)
    client = reader.iam_client(role.account.access)
    after, calls = simulate.simulate(client, role.arn, role.policies, probe_list, proposed=proposal.document)
    before = {(r["subject"], r["action"]): r for r in access.probe_results(role, {domain.domain_id})}
    newly_denied, used_calls = newly_denied_uses(proposal, client)
    changed = []
    still_leaking: set[tuple[str, str]] = set()
    for result in after:
        key = (result["label"], result["action"])
        if result["outcome"] in probing.LEAKING:
            still_leaking.add(key)
        old = before.get((result["subject"], result["action"]))
        if old is not None and old["outcome"] != result["outcome"]:
            changed.append({**result, "before": old["outcome"]})
    closes = []
    marker = probing_source(role)
    for finding in access.role_findings(user, role, [domain]):
        mine = [e["field"] for e in finding.evidence if e.get("source") == marker]
        if mine and all(tuple(f.split(": ", 1)) not in still_leaking for f in mine):
            closes.append(finding)
    return {"changed": changed, "closes": closes, "calls": calls + used_calls, "newly_denied": newly_denied}


def recent_uses(role: ExecutionRole, domain: Domain, *, days: int = RECENT_DAYS) -> dict[tuple[str, str], list[str]]:
    """(app type, instance type) -> the profiles and spaces that ran it in the last ``days`` days, among those the
    role acts for in the domain. The inventory keeps every app it saw (deleted ones as Deleted, gone ones with
    ``removed_at``); an app counts when AWS created it, its user was active in it, the sync saw it change, or it
    still runs within the window. An app name reused with another instance type keeps only its last one."""
    since = timezone.now() - timedelta(days=days)
    uses = RoleUse.objects.filter(role=role, domain=domain)
    profiles = uses.filter(profile__isnull=False).values("profile_id")
    spaces = uses.filter(space__isnull=False).values("space_id")
    recent = (
        Q(aws_created_at__gte=since)
        | Q(last_user_activity__gte=since)
        | Q(last_changed__gte=since)
        | Q(removed_at__isnull=True, status="InService")
    )
    rows = (
        App.objects.filter(domain=domain)
        .filter(Q(user_profile_id__in=profiles) | Q(space_id__in=spaces))
        .filter(recent)
        .values_list("app_type", "instance_type", "user_profile_name", "space_name")
        .order_by("app_type", "instance_type", "user_profile_name", "space_name")
    )
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for app_type, instance_type, profile_name, space_name in rows:
        who = f"space {space_name}" if space_name else f"profile {profile_name}"
        if who not in found[(app_type, instance_type)]:
            found[(app_type, instance_type)].append(who)
    return dict(found)


def newly_denied_uses(proposal: Proposal, client: Any) -> tuple[list[dict[str, Any]], int]:
    """What the role's profiles and spaces ran in the last 30 days that the role allows today and would deny with
    the policy: ``[{"app_type", "instance_type", "label", "used_by", "outcome", "matched"}]`` and the IAM calls."""
    role, domain = proposal.role, proposal.domain
    used = recent_uses(role, domain)
    if not used:
        return [], 0
    target = probing.DomainTarget(domain.domain_id, domain.arn, domain.account.account_id, domain.region)
    probe_list = probing.used_app_probes(target, used)
    now, calls_now = simulate.simulate(client, role.arn, role.policies, probe_list)
    after, calls_after = simulate.simulate(client, role.arn, role.policies, probe_list, proposed=proposal.document)
    allowed_now = {r["subject"] for r in now if r["outcome"] in probing.LEAKING}
    denied = []
    for result in after:
        if result["subject"] in allowed_now and result["outcome"] not in probing.LEAKING:
            app_type, _, instance_type = result["subject"].partition(":")[2].partition("@")
            denied.append(
                {
                    "app_type": app_type,
                    "instance_type": instance_type,
                    "label": result["label"],
                    "used_by": used.get((app_type, instance_type), []),
                    "outcome": result["outcome"],
                    "matched": result.get("matched", []),
                }
            )
    return denied, calls_now + calls_after


# -- applying through a change set ----------------------------------------------------------------------------
def inline_policy_name(proposal: Proposal) -> str:
    return f"{PORTAL_POLICY_PREFIX}{proposal.kind}-{proposal.domain.domain_id}"[:128]


def current_inline(role: ExecutionRole, name: str) -> Any:
    """The role's inline policy of this name as the last IAM review read it (None: it has none)."""
    return next((p["document"] for p in role.inline if p["name"] == name), None)


def apply_blocker(proposal: Proposal, user: Any) -> str:
    """Why this policy cannot be proposed as a change set ('' when it can): the page shows it beside the
    downloads."""
    role, domain = proposal.role, proposal.domain
    if not grants_for(user).allows(APPROVE, domain.arn):
        return f"Only a platform admin or an approver of {domain.name} may propose a policy for its roles."
    if role.account is None or role.read_error or not role.policy_hash:
        return "This role has not been read from IAM: run an IAM review first."
    if role.aws_account_id != domain.account.account_id:
        return (
            f"The role is in account {role.aws_account_id}, not in the domain's account {domain.account.account_id}: "
            f"the portal writes IAM only in the domain's own account."
        )
    if not domain.account.portal_writes_iam:
        return (
            f"The account {domain.account} does not let the portal write IAM (a platform admin turns on 'The portal "
            f"may write IAM' on the account). Download the policy and apply it with your own tooling."
        )
    if not proposal.validation.ok:
        return "The policy is refused by its validation; it cannot be applied."
    name = inline_policy_name(proposal)
    others = sum(changesets.policy_size(p["document"]) for p in role.inline if p["name"] != name)
    total = others + changesets.policy_size(proposal.document)
    if total > changesets.INLINE_POLICIES_LIMIT:
        return (
            f"With this policy the role's inline policies would hold {total} characters, over IAM's "
            f"{changesets.INLINE_POLICIES_LIMIT}: attach it as a managed policy with your own tooling instead."
        )
    return ""


def propose(proposal: Proposal, user: Any) -> ChangeSet:
    """The policy as a change set (PutRolePolicy), after its simulation: the findings it would close are the change
    set's, so they resolve once it is applied and the role re-read."""
    blocker = apply_blocker(proposal, user)
    if blocker:
        raise ValidationError(blocker)
    found = proposal.simulation or simulate_proposal(proposal, user)
    proposal.simulation = found
    name = inline_policy_name(proposal)
    change = PlannedChange(
        "PutRolePolicy",
        proposal.role.arn,
        "role",
        {"RoleName": proposal.role.name, "PolicyName": name, "PolicyDocument": json.dumps(proposal.document)},
        before={"PolicyDocument": current_inline(proposal.role, name)},
        after={"PolicyDocument": proposal.document},
    )
    findings = list(found["closes"])
    with transaction.atomic():
        change_set = changesets.propose(
            user,
            proposal.domain,
            f"{proposal.title} on role {proposal.role.name}",
            [change],
            origin=f"iam:{proposal.kind}",
            finding_ids=[f.pk for f in findings],
        )
        link_findings(change_set, findings, user)
    return change_set


def link_findings(change_set: ChangeSet, findings: list[Any], actor: Any) -> None:
    """The findings the policy closes in simulation, linked to the change set as its fix (one call: the policy)."""
    from governance.proposals import link_fix

    link_fix(change_set, findings, actor, calls=1)


def probing_source(role: ExecutionRole) -> str:
    from iamaccess.checks import SOURCE

    return SOURCE.format(role=role.name)
