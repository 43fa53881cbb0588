"""Does a persona's execution role enforce what the persona hides? Answered from the role's cached evaluation (the
probes of GOVERNANCE.md section 4, simulated by the last IAM review), never by calling IAM while a person saves a
form; registered as the portal's role advisor, which the persona pages and API ask after a save. The advice offers
the deny statements that would enforce it (policies (e) and (c) of :mod:`iamaccess.generator`)."""

from __future__ import annotations

import fnmatch
from typing import Any

from django.urls import reverse

from domains.models import Domain
from iamaccess import generator
from iamaccess import probes as probing
from iamaccess.models import ExecutionRole


def advise(
    domain: Domain,
    role_arn: str,
    *,
    hidden_app_types: list[str] | tuple[str, ...] = (),
    hidden_ml_tools: list[str] | tuple[str, ...] = (),
    allowed_instance_types: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    role = ExecutionRole.objects.select_related("evaluation").filter(arn=(role_arn or "").strip()).first()
    answer: dict[str, Any] = {"status": "unknown", "message": "", "leaks": [], "deny": None, "role_url": ""}
    if role is not None:
        answer["role_url"] = reverse("iamaccess:role-detail", args=[role.pk])
    stored = role.evaluation.results if role is not None and role.evaluation is not None else []
    results = [r for r in stored if r["domain_id"] == domain.domain_id]
    if not results:
        answer["message"] = (
            "Whether the execution role enforces what this persona hides is not known yet: the IAM review has not "
            "simulated this role in this domain (it does once a profile or the domain uses the role)."
        )
        return answer
    hidden = set(probing.subjects_for_hidden(hidden_app_types, hidden_ml_tools))
    allowed = [t for t in allowed_instance_types if t]
    leaks: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        subject = result["subject"]
        kind, _, value = subject.partition(":")
        wanted = subject in hidden or (kind == "instance" and allowed and not _listed(value, allowed))
        if wanted and result["outcome"] in probing.LEAKING:
            leaks.setdefault(subject, []).append(result)
    if not leaks:
        answer["status"] = "enforced"
        answer["message"] = f"{role.name} denies everything this persona hides (as the last IAM review simulated it)."
        return answer
    labels = sorted({found[0]["label"] for found in leaks.values()})
    answer["status"] = "leaks"
    answer["leaks"] = [
        {"subject": subject, "label": found[0]["label"], "actions": sorted({r["action"] for r in found})}
        for subject, found in sorted(leaks.items())
    ]
    answer["message"] = (
        f"Hidden in Studio but allowed by {role.name}: {', '.join(labels)}. Hiding is not security: add the deny "
        f"statements below to the role (or generate and apply them from the role's page)."
    )
    answer["deny"] = _deny(domain, leaks, allowed)
    return answer


def _listed(instance_type: str, allowed: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(instance_type, pattern) for pattern in allowed)


def _deny(domain: Domain, leaks: dict[str, list[dict[str, Any]]], allowed: list[str]) -> dict[str, Any] | None:
    apps = [s.partition(":")[2] for s in leaks if s.startswith("app:")]
    tools = [s.partition(":")[2] for s in leaks if s.startswith("tool:")]
    params = generator.Params(
        domain_arn=domain.arn,
        domain_id=domain.domain_id,
        account_id=domain.account.account_id,
        region=domain.region,
        instance_types=tuple(allowed) or ("system",),
        hidden_app_types=tuple(apps),
        hidden_ml_tools=tuple(tools),
    )
    statements: list[dict[str, Any]] = []
    if apps or tools:
        statements += generator.hidden_statements(params)
    if any(s.startswith("instance:") for s in leaks):
        statements += generator.generate("instance-types", params)["Statement"]
    return {"Version": "2012-10-17", "Statement": statements} if statements else None
