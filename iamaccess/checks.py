"""The IAM checks of GOVERNANCE.md section 3 (SE-05, SE-06, SE-07, SE-08, TG-01), registered from
:class:`iamaccess.apps.IamAccessConfig`.

They read what the IAM review stored (each role's policies and the simulator's answers to its probes), never AWS:
the governance engine runs them over a domain's inventory like every other check. The role that acts is worked out
from the inventory as it stands (a profile's effective role; the domain's space role for shared spaces), and its
stored answers for this domain are used; a role not reviewed yet gives no finding until the next review.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from domains.models import Domain
from iamaccess import probes as probing
from iamaccess import roles as role_rules
from iamaccess.models import ExecutionRole
from portal.registry import Check, Evidence, Found

DOCS = "https://docs.aws.amazon.com/sagemaker/latest/dg/"
FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
SOURCE = "SimulatePrincipalPolicy as {role}"


class Reviewed:
    """What the checks read, loaded once per evaluation (the engine passes every inventory of one evaluation the same
    ``now``): every reviewed role with its stored answers (roles are few: tens, not thousands) and the live domains'
    account and region, in two queries whatever the number of domains."""

    _local = threading.local()

    def __init__(self) -> None:
        self.roles = {r.arn: r for r in ExecutionRole.objects.select_related("evaluation")}
        self.neighbours: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
        for pk, account_pk, region, name in Domain.objects.filter(removed_at__isnull=True).values_list(
            "pk", "account_id", "region", "name"
        ):
            self.neighbours[(account_pk, region)].append((pk, name))

    @classmethod
    def forget(cls) -> None:
        cls._local.cached = None

    @classmethod
    def for_evaluation(cls, now: Any) -> Reviewed:
        cached = getattr(cls._local, "cached", None)
        if cached is None or cached[0] is not now:
            cached = (now, cls())
            cls._local.cached = cached
        return cached[1]


class IamView:
    """The reviewed roles one domain's checks need, with the effective roles of its profiles."""

    def __init__(self, inv: Any) -> None:
        self.inv = inv
        snapshot = inv.domain.settings_snapshot
        self.space_role = (role_rules.space_role(snapshot).value or "").strip()
        self.has_shared_spaces = any(s.sharing_type == "Shared" for s in inv.all_spaces or ())
        self.reviewed = Reviewed.for_evaluation(inv.now)
        self.roles = self.reviewed.roles
        self._results: dict[str, list[dict[str, Any]]] = {}

    def neighbours(self) -> list[str]:
        """The other live domains in this domain's account and region."""
        domain = self.inv.domain
        return sorted(
            name for pk, name in self.reviewed.neighbours[(domain.account_id, domain.region)] if pk != domain.pk
        )

    def results(self, arn: str) -> list[dict[str, Any]]:
        """The stored probe answers of a role for this domain ([] when not reviewed)."""
        if arn not in self._results:
            role = self.roles.get(arn)
            evaluation = role.evaluation if role and not role.read_error else None
            domain_id = self.inv.domain.domain_id
            self._results[arn] = [r for r in (evaluation.results if evaluation else []) if r["domain_id"] == domain_id]
        return self._results[arn]

    def acting_roles(self, profile: Any) -> list[str]:
        """The roles a profile's user works as: their own, and the space role where the domain has shared spaces."""
        arns = [role_rules.profile_role(self.inv.profile_settings(profile))]
        if self.has_shared_spaces and self.space_role and self.space_role not in arns:
            arns.append(self.space_role)
        return [a for a in arns if a]

    def domain_roles(self) -> list[str]:
        """Every role acting in this domain, in a stable order."""
        arns = {role_rules.profile_role(self.inv.profile_settings(p)) for p in self.inv.all_profiles or ()}
        arns.add(role_rules.domain_default_role(self.inv.domain.settings_snapshot))
        if self.has_shared_spaces:
            arns.add(self.space_role)
        return sorted(a for a in arns if a)


def view_of(inv: Any) -> IamView:
    view = getattr(inv, "_iam_view", None)
    if view is None:
        view = IamView(inv)
        inv._iam_view = view
    return view


def _role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _statement_text(matched: dict[str, Any]) -> str:
    """``Policy / Sid``, naming the condition keys the statement reads (its whole text is on the role's page)."""
    sid, _, conditions = (matched.get("statement") or "").partition(" (with conditions ")
    text = matched["policy"].rsplit("/", 1)[-1] + (f" / {sid}" if sid else "")
    if conditions:
        try:
            keys = sorted({key for block in json.loads(conditions.rstrip(")")).values() for key in block})
        except ValueError:
            keys = []
        if keys:
            text += f" (when {', '.join(keys)})"
    return text


def describe(result: dict[str, Any]) -> str:
    """A probe's answer as the evidence shows it: the decision, the statement that decided, what was missing."""
    text = probing.OUTCOME_LABELS.get(result["outcome"], result["outcome"])
    statements = [_statement_text(m) for m in result.get("matched") or []]
    if statements:
        text += " by " + "; ".join(statements)
    elif result["outcome"] == probing.IMPLICIT_DENY:
        text += " (no statement allows it)"
    if result.get("missing"):
        text += "; missing context values: " + ", ".join(result["missing"])
    return text


def _leaks(view: IamView, arns: list[str], subjects: list[str]) -> list[tuple[str, dict[str, Any]]]:
    wanted = set(subjects)
    return [
        (arn, result)
        for arn in arns
        for result in view.results(arn)
        if result["subject"] in wanted and result["outcome"] in probing.LEAKING
    ]


def _probe_evidence(arn: str, result: dict[str, Any]) -> Evidence:
    return Evidence(
        f"{result['label']}: {result['action']}",
        describe(result),
        SOURCE.format(role=_role_name(arn)),
    )


# -- SE-05 -------------------------------------------------------------------------------------------------------
def _broad_statements(document: Any) -> list[str]:
    statements = (document or {}).get("Statement") or []
    statements = statements if isinstance(statements, list) else [statements]
    found = []
    for index, statement in enumerate(statements, start=1):
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        actions = statement.get("Action") or []
        actions = actions if isinstance(actions, list) else [actions]
        resources = statement.get("Resource") or []
        resources = resources if isinstance(resources, list) else [resources]
        if any(a in ("*", "sagemaker:*") for a in actions) and "*" in resources:
            found.append(statement.get("Sid") or f"statement {index}")
    return found


def overbroad(role: ExecutionRole) -> list[str]:
    """Why a role's policies grant all of SageMaker: AmazonSageMakerFullAccess attached, or ``sagemaker:*`` (or
    ``*``) allowed on ``*`` without a condition."""
    why = []
    for policy in role.attached:
        if policy.get("arn") == FULL_ACCESS:
            why.append("AmazonSageMakerFullAccess attached")
        else:
            why += [f"{policy['name']} / {sid}: sagemaker:* on *" for sid in _broad_statements(policy.get("document"))]
    for policy in role.inline:
        why += [f"inline {policy['name']} / {sid}: sagemaker:* on *" for sid in _broad_statements(policy["document"])]
    return why


def se05_overbroad_roles(inv: Any) -> Iterator[Found]:
    view = view_of(inv)
    evidence = []
    for arn in view.domain_roles():
        role = view.roles.get(arn)
        if role is None or role.read_error or not role.policy_hash:
            continue
        why = overbroad(role)
        if why:
            evidence.append(Evidence(f"role {role.name}", "; ".join(why), "GetAccountAuthorizationDetails"))
    if evidence:
        names = ", ".join(e.field.removeprefix("role ") for e in evidence)
        yield Found(inv.domain, "domain", f"Execution roles grant all of SageMaker: {names}.", tuple(evidence))


# -- SE-06 -------------------------------------------------------------------------------------------------------
def se06_hidden_but_allowed(inv: Any) -> Iterator[Found]:
    view = view_of(inv)
    for profile in inv.profiles:
        settings = inv.profile_settings(profile)
        apps = list(settings["HiddenAppTypes"].value or [])
        tools = list(settings["HiddenMlTools"].value or [])
        subjects = probing.subjects_for_hidden(apps, tools)
        if not subjects:
            continue
        leaks = _leaks(view, view.acting_roles(profile), subjects)
        if not leaks:
            continue
        values = sorted({result["subject"].partition(":")[2] for _, result in leaks})
        evidence = [
            Evidence("leaking", values, "hidden in the UI, allowed (or conditional) by IAM"),
            Evidence(settings["HiddenAppTypes"].path, apps, settings["HiddenAppTypes"].source),
            Evidence(settings["HiddenMlTools"].path, tools, settings["HiddenMlTools"].source),
        ]
        evidence += [_probe_evidence(arn, result) for arn, result in leaks]
        yield Found(
            profile,
            "profile",
            f"Hidden in {profile.name}'s Studio but allowed by IAM: {', '.join(values)}.",
            tuple(evidence),
        )


def se06_severity(found: Found, inv: Any) -> str:
    leaking = next((e.value for e in found.evidence if e.field == "leaking"), [])
    return "high" if set(leaking) & probing.HIGH_SEVERITY else "medium"


# -- SE-07 -------------------------------------------------------------------------------------------------------
def se07_hidden_instance_types(inv: Any) -> Iterator[Found]:
    view = view_of(inv)
    for profile in inv.profiles:
        setting = inv.profile_settings(profile)["HiddenInstanceTypes"]
        hidden = list(setting.value or [])
        if not hidden:
            continue
        leaks = _leaks(view, view.acting_roles(profile), [f"instance:{t}" for t in hidden])
        if not leaks:
            continue
        values = sorted({result["subject"].partition(":")[2] for _, result in leaks})
        evidence = [Evidence(setting.path, hidden, setting.source)]
        evidence += [_probe_evidence(arn, result) for arn, result in leaks]
        yield Found(
            profile,
            "profile",
            f"Instance types hidden from {profile.name} are still allowed: {', '.join(values)}.",
            tuple(evidence),
        )


# -- SE-08 -------------------------------------------------------------------------------------------------------
def se08_other_private_space(inv: Any) -> Iterator[Found]:
    view = view_of(inv)
    arns = [role_rules.profile_role(inv.profile_settings(p)) for p in inv.all_profiles or ()]
    arns = sorted({a for a in arns if a} | {role_rules.domain_default_role(inv.domain.settings_snapshot)} - {""})
    leaks = _leaks(view, arns, ["other-space"])
    if leaks:
        names = sorted({_role_name(arn) for arn, _ in leaks})
        yield Found(
            inv.domain,
            "domain",
            f"Users may start apps in another profile's private space as {', '.join(names)}.",
            tuple(_probe_evidence(arn, result) for arn, result in leaks),
        )


# -- TG-01 -------------------------------------------------------------------------------------------------------
def tg01_domain_isolation(inv: Any) -> Iterator[Found]:
    domain = inv.domain
    view = view_of(inv)
    leaks = _leaks(view, view.domain_roles(), ["other-domain"])
    if not leaks:
        return
    neighbours = view.neighbours()
    if not neighbours:
        return  # alone in its account and region: nothing to be isolated from
    names = sorted({_role_name(arn) for arn, _ in leaks})
    evidence = [
        Evidence("other domains in the account and region", sorted(neighbours), "the inventory"),
        *(_probe_evidence(arn, result) for arn, result in leaks),
    ]
    yield Found(
        domain,
        "domain",
        f"{', '.join(names)} may touch other domains' resources: no aws:ResourceTag/sagemaker:domain-arn condition.",
        tuple(evidence),
    )


CHECKS = (
    Check(
        id="SE-05",
        title="Execution role grants all of SageMaker",
        severity="high",
        reads=("domain", "profile", "space"),
        docs=DOCS + "sagemaker-roles.html",
        run=se05_overbroad_roles,
        fix="Replace AmazonSageMakerFullAccess (or sagemaker:* on *) with policies scoped to the domain, its spaces "
        "and its instance types (GOVERNANCE.md section 6).",
    ),
    Check(
        id="SE-06",
        title="Hidden in the UI but allowed by IAM",
        severity=se06_severity,
        reads=("profile", "space"),
        docs=DOCS + "studio-updated-ui-customize.html",
        run=se06_hidden_but_allowed,
        fix="Hiding a tool is visibility, not security: add a deny statement for each leaking action to the "
        "execution role.",
    ),
    Check(
        id="SE-07",
        title="Hidden instance type still allowed",
        severity="medium",
        reads=("profile",),
        docs=DOCS + "studio-updated-ui-customize-instances-images.html",
        run=se07_hidden_instance_types,
        fix="Deny CreateApp, CreateSpace and UpdateSpace when sagemaker:InstanceTypes is outside the team's list "
        "(policy (c)).",
    ),
    Check(
        id="SE-08",
        title="Private spaces not limited to their owner",
        severity="high",
        reads=("domain", "profile", "space"),
        docs=DOCS + "studio-updated-jl-admin-guide-permissions.html",
        run=se08_other_private_space,
        fix="Limit spaces and their apps to the owner profile (policy (b), AWS's space-owner policy).",
    ),
    Check(
        id="TG-01",
        title="Execution roles not isolated by domain tag",
        severity="medium",
        reads=("domain", "profile", "space"),
        docs=DOCS + "domain-resource-isolation.html",
        run=tg01_domain_isolation,
        fix="Condition Describe/Update/Delete/Stop on aws:ResourceTag/sagemaker:domain-arn (policy (a)), after the "
        "tag backfill.",
    ),
)
