"""``iam:SimulatePrincipalPolicy`` over a role's probes: one call (and its pages) per probe group, every action and
resource of the group at once; the answers are matched back to the probes, with the statement that decided each.

Live AWS and the sandbox answer the same call (the sandbox with its own evaluator): one code path.
"""

from __future__ import annotations

import fnmatch
import json
from collections import defaultdict
from typing import Any

from iamaccess import probes as probing
from portal.aws import call_with_retries

MAX_ITEMS = 1000  # SimulatePrincipalPolicy MaxItems: 1-1000
MULTI_VALUED = {"sagemaker:InstanceTypes"}
PROPOSED = "PolicyInputList.1"  # how IAM names the first policy of PolicyInputList in MatchedStatements


def _context_entries(context: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [
        {
            "ContextKeyName": key,
            "ContextKeyValues": list(values),
            "ContextKeyType": "stringList" if key in MULTI_VALUED else "string",
        }
        for key, values in sorted(context.items())
    ]


def _flatten(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One answer per (action, resource): AWS may nest per-resource answers in ResourceSpecificResults."""
    nested = result.get("ResourceSpecificResults") or []
    if not nested:
        return [
            {
                "action": result["EvalActionName"],
                "resource": result.get("EvalResourceName", "*"),
                "decision": result["EvalDecision"],
                "matched": result.get("MatchedStatements") or [],
                "missing": result.get("MissingContextValues") or [],
            }
        ]
    return [
        {
            "action": result["EvalActionName"],
            "resource": item.get("EvalResourceName", "*"),
            "decision": item["EvalResourceDecision"],
            "matched": item.get("MatchedStatements") or [],
            "missing": item.get("MissingContextValues") or result.get("MissingContextValues") or [],
        }
        for item in nested
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(patterns: Any, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in _as_list(patterns))


def _documents(policies: dict[str, Any]) -> list[tuple[tuple[str, ...], Any]]:
    """Each policy document with the ids IAM may name it by (an inline policy's name, a managed policy's ARN)."""
    docs: list[tuple[tuple[str, ...], Any]] = [((p["name"],), p["document"]) for p in policies.get("inline") or []]
    docs += [((p["arn"], p["name"]), p.get("document")) for p in policies.get("attached") or []]
    if policies.get("boundary"):
        boundary = policies["boundary"]
        docs.append(((boundary["arn"], boundary["name"]), boundary.get("document")))
    return docs


def _statements(document: Any, action: str, resource: str, effect: str) -> list[tuple[int, dict[str, Any]]]:
    """The statements of that effect whose Action/NotAction and Resource/NotResource match (a Resource with a
    policy variable counts as matching; conditions are not evaluated here)."""
    found = []
    for index, statement in enumerate(_as_list((document or {}).get("Statement") or []), start=1):
        if statement.get("Effect") != effect:
            continue
        if "Action" in statement and not _matches(statement["Action"], action):
            continue
        if "NotAction" in statement and _matches(statement["NotAction"], action):
            continue
        if "Resource" in statement and resource != "*" and not _matches(statement["Resource"], resource):
            if not any("${" in str(r) for r in _as_list(statement["Resource"])):
                continue
        if "NotResource" in statement and _matches(statement["NotResource"], resource):
            continue
        found.append((index, statement))
    return found


def statement_of(policies: dict[str, Any], source_id: str, action: str, resource: str, effect: str) -> str:
    """The Sid (or "statement N") of the statement in policy ``source_id`` that matched, with its conditions: what
    the evidence shows. IAM names the policy that decided (``SourcePolicyId``); the statement is found here."""
    for ids, document in _documents(policies):
        if source_id not in ids:
            continue
        for index, statement in _statements(document, action, resource, effect):
            sid = statement.get("Sid") or f"statement {index}"
            if statement.get("Condition"):
                sid += " (with conditions " + json.dumps(statement["Condition"], sort_keys=True)[:300] + ")"
            return sid
    return ""


def allow_depends_on(policies: dict[str, Any], action: str, resource: str, missing: list[str]) -> bool:
    """Whether an Allow statement for this action and resource reads one of the missing context keys: then the
    implicit deny holds only for the context the probe gave, and the role may allow it in practice. A key missing
    only from Deny statements cannot turn a deny into an allow."""
    keys = [key.lower() for key in missing]
    if not keys:
        return False
    for _, document in _documents(policies):
        for _, statement in _statements(document, action, resource, "Allow"):
            text = json.dumps([statement.get("Condition") or {}, statement.get("Resource")]).lower()
            if any(key in text for key in keys):
                return True
    return False


def simulate(
    client: Any,
    role_arn: str,
    policies: dict[str, Any],
    probes: list[probing.Probe],
    proposed: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Every probe's decision for ``role_arn`` (with the ``proposed`` policy added to its own, as
    SimulatePrincipalPolicy's PolicyInputList does); and the number of SimulatePrincipalPolicy calls made."""
    if proposed is not None:
        policies = {**policies, "inline": [*(policies.get("inline") or []), {"name": PROPOSED, "document": proposed}]}
    groups: dict[tuple[str, str], list[probing.Probe]] = defaultdict(list)
    for probe in probes:
        groups[(probe.domain_id, probe.group)].append(probe)
    answers: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    calls = 0
    for (domain_id, group), members in groups.items():
        context = {k: list(v) for k, v in members[0].context}
        params: dict[str, Any] = {
            "PolicySourceArn": role_arn,
            "ActionNames": sorted({p.action for p in members}),
            "ResourceArns": sorted({p.resource for p in members}),
            "ContextEntries": _context_entries(context),
            "MaxItems": MAX_ITEMS,
        }
        if proposed is not None:
            params["PolicyInputList"] = [json.dumps(proposed)]
        marker = None
        while True:
            if marker:
                params["Marker"] = marker
            answer = call_with_retries(client.simulate_principal_policy, **params)
            calls += 1
            for result in answer.get("EvaluationResults", []):
                for item in _flatten(result):
                    answers[(domain_id, group, item["action"], item["resource"])] = item
            if not answer.get("IsTruncated"):
                break
            marker = answer["Marker"]
    results = []
    for probe in probes:
        item = answers.get((probe.domain_id, probe.group, probe.action, probe.resource))
        if item is None:  # IAM answered the action for "*" only (a single-resource answer)
            item = answers.get((probe.domain_id, probe.group, probe.action, "*"), {})
        decision = item.get("decision", probing.IMPLICIT_DENY)
        missing = sorted(item.get("missing") or [])
        effect = "Allow" if decision == probing.ALLOWED else "Deny"
        matched = []
        for statement in item.get("matched") or []:
            source = statement.get("SourcePolicyId", "")
            matched.append(
                {
                    "policy": source,
                    "type": statement.get("SourcePolicyType", ""),
                    "statement": statement_of(policies, source, probe.action, probe.resource, effect),
                }
            )
        results.append(
            {
                **probe.to_json(),
                "decision": decision,
                "outcome": probing.outcome_of(
                    decision, missing, allow_depends_on(policies, probe.action, probe.resource, missing)
                ),
                "matched": matched,
                "missing": missing,
            }
        )
    return results, calls
