"""A generated policy for one role and domain: the document, its validation and downloads, and "simulate with this
policy": the role's probes asked again with the policy added (SimulatePrincipalPolicy's PolicyInputList), what it
would change and which of the role's findings it would close."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from domains.models import Domain
from iamaccess import access, generator, reader, review, simulate
from iamaccess import probes as probing
from iamaccess.models import ExecutionRole

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


def build(role: ExecutionRole, domain: Domain, kind: str, instance_types: tuple[str, ...]) -> Proposal:
    if kind not in generator.KINDS:
        raise ValidationError(f"Choose a policy: {', '.join(generator.KINDS)}.")
    params = generator.Params(
        domain_arn=domain.arn,
        domain_id=domain.domain_id,
        account_id=domain.account.account_id,
        region=domain.region,
        new_studio=domain.studio_experience != Domain.StudioExperience.CLASSIC,
        instance_types=instance_types,
    )
    document = generator.generate(kind, params)
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
    return {"changed": changed, "closes": closes, "calls": calls}


def probing_source(role: ExecutionRole) -> str:
    from iamaccess.checks import SOURCE

    return SOURCE.format(role=role.name)
