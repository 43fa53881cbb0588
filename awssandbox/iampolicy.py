"""An evaluator of IAM identity policies and permissions boundaries: pure functions over policy documents.

No moto, no boto3: the sandbox's ``SimulatePrincipalPolicy`` / ``SimulateCustomPolicy`` call it (see
:mod:`awssandbox.iam`), and the portal's governance checks can be tested against it directly.

It follows AWS's documented evaluation logic (IAM user guide, ``reference_policies_evaluation-logic.html``): an
explicit deny in any policy wins; otherwise an identity policy must allow; when permissions boundaries are given,
a boundary must allow too. It covers Allow/Deny, Action/NotAction and Resource/NotResource with ``*`` and ``?``,
policy variables (``${aws:...}``, ``${sagemaker:...}``, ``${*}``, ``${?}``, ``${$}``, defaults), and the String,
Arn, Numeric, Bool, Null, IpAddress and Date condition operators with ``ForAnyValue:``, ``ForAllValues:`` and
``...IfExists`` (``reference_policies_elements_condition_operators.html``,
``reference_policies_condition-logic-multiple-context-keys.html``).

Not covered: resource-based policies, SCPs/RCPs, session policies, Principal/NotPrincipal, Binary operators.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

ALLOWED = "allowed"
EXPLICIT_DENY = "explicitDeny"
IMPLICIT_DENY = "implicitDeny"

# ASSUMED where AWS's documentation is silent; each choice here, in one place, so it is easy to correct.
ASSUMED: dict[str, str] = {
    # reference_policies_condition-single-vs-multi-valued-context-keys.html only says single-valued operators are
    # "not recommended" on multivalued keys: a positive one matches when any value matches, a negated one when no
    # value matches.
    "single-valued operator on a multivalued key": "positive: any value matches; negated: no value matches",
    # reference_policies_variables.html: "If the key is not present ... the policy does not match" (no default).
    "missing policy variable": "the element that uses it does not match; the key is reported in MissingContextValues",
    # IAM API reference, SimulatePrincipalPolicy: "MissingContextValues ... keys ... that are referenced by the
    # policies but not provided": we report the keys of every statement whose Action and Resource matched.
    "missing context values": "keys of conditions and variables in statements whose Action and Resource matched",
    # IAM API reference, EvaluationResult: silent on how several ResourceArns are laid out.
    "several resources": "one EvaluationResult per action and resource, no ResourceSpecificResults",
    # MatchedStatements' StartPosition/EndPosition (optional in botocore's model) are not computed.
    "statement positions": "MatchedStatements carry SourcePolicyId and SourcePolicyType only",
}


class PolicyError(ValueError):
    """A policy document the evaluator cannot read (AWS: MalformedPolicyDocument / InvalidInput)."""


@dataclass(frozen=True)
class Policy:
    """One policy document with the id and type AWS reports in MatchedStatements."""

    document: Mapping[str, Any] | str
    source_id: str = "PolicyInputList.1"
    source_type: str = "none"  # user | group | role | aws-managed | user-managed | resource | none

    def statements(self) -> list[dict[str, Any]]:
        return statements_of(self.document)


@dataclass
class Evaluation:
    """The simulator's answer for one action on one resource, in botocore's ``EvaluationResult`` terms."""

    action: str
    resource: str
    decision: str
    matched: list[dict[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    allowed_by_boundary: bool | None = None

    def as_result(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "EvalActionName": self.action,
            "EvalResourceName": self.resource,
            "EvalDecision": self.decision,
            "MatchedStatements": self.matched,
            "MissingContextValues": self.missing,
        }
        if self.allowed_by_boundary is not None:
            result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": self.allowed_by_boundary}
        return result


# -- documents ---------------------------------------------------------------------------------------------------
def statements_of(document: Mapping[str, Any] | str) -> list[dict[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise PolicyError(f"The policy is not valid JSON: {exc}") from exc
    if not isinstance(document, Mapping):
        raise PolicyError("The policy must be a JSON object.")
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise PolicyError("The policy must have a Statement.")
    for statement in statements:
        if not isinstance(statement, Mapping):
            raise PolicyError("Each Statement must be an object.")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError("Each Statement needs Effect Allow or Deny.")
        if ("Action" in statement) == ("NotAction" in statement):
            raise PolicyError("Each Statement needs exactly one of Action and NotAction.")
        if ("Resource" in statement) and ("NotResource" in statement):
            raise PolicyError("A Statement cannot have both Resource and NotResource.")
        if "Resource" not in statement and "NotResource" not in statement:
            raise PolicyError("An identity policy Statement needs Resource or NotResource.")
        for operator, block in (statement.get("Condition") or {}).items():
            _operator(operator)  # raises on an unknown operator
            if not isinstance(block, Mapping):
                raise PolicyError(f"Condition {operator} must map keys to values.")
    return [dict(s) for s in statements]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# -- context -----------------------------------------------------------------------------------------------------
class Context:
    """Request context keys (case-insensitive names, as in IAM) to lists of string values."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values = {key.lower(): [_text(v) for v in _as_list(value)] for key, value in (values or {}).items()}

    def get(self, key: str) -> list[str] | None:
        return self._values.get(key.lower())


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Missing(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


def _parts(template: str, context: Context, missing: set[str]) -> list[tuple[str, bool]]:
    """Split ``template`` into (text, literal) pieces, replacing policy variables; literal pieces hold no wildcards."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in _VARIABLE.finditer(template):
        pieces.append((template[position : match.start()], False))
        inner = match.group(1).strip()
        if inner in _SPECIAL:
            pieces.append((_SPECIAL[inner], True))
        else:
            name, _, default = inner.partition(",")
            values = context.get(name.strip())
            if values and len(values) == 1:
                pieces.append((values[0], True))
            elif default.strip():
                pieces.append((default.strip().strip("'"), True))
            else:
                missing.add(name.strip())
                raise _Missing(name.strip())
        position = match.end()
    pieces.append((template[position:], False))
    return pieces


def _substitute(template: str, context: Context, missing: set[str]) -> str:
    return "".join(text for text, _ in _parts(template, context, missing))


def _glob(template: str, context: Context, missing: set[str], *, ignore_case: bool = False) -> re.Pattern[str]:
    regex = []
    for text, literal in _parts(template, context, missing):
        if literal:
            regex.append(re.escape(text))
        else:
            regex.append("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text))
    return _compile("".join(regex), ignore_case)


@lru_cache(maxsize=4096)
def _compile(regex: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


# -- Action and Resource -----------------------------------------------------------------------------------------
def _action_matches(patterns: Iterable[str], action: str) -> bool:
    # Action names are not case sensitive (reference_policies_elements_action.html).
    return _actions_regex(tuple(patterns)).fullmatch(action) is not None


@lru_cache(maxsize=4096)
def _actions_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for a statement's actions. An Action element takes no policy variables, only * and ?
    wildcards, so the list compiles once however many requests ask."""
    empty = Context()
    alternatives = [_glob(p, empty, set(), ignore_case=True).pattern for p in patterns]
    return _compile("|".join(f"(?:{a})" for a in alternatives) or "(?!)", True)


def _arn_matches(pattern: str, arn: str, context: Context, missing: set[str]) -> bool:
    """ARN matching: each of the six colon-separated parts matched on its own (``ArnLike`` semantics)."""
    if pattern == "*":
        return True
    wanted = pattern.split(":", 5)
    actual = arn.split(":", 5)
    if len(wanted) != 6 or len(actual) != 6:
        return _glob(pattern, context, missing).fullmatch(arn) is not None
    return all(_glob(w, context, missing).fullmatch(a) for w, a in zip(wanted, actual, strict=True))


def _resource_matches(patterns: Iterable[str], resource: str, context: Context, missing: set[str]) -> bool:
    for pattern in patterns:
        try:
            if _arn_matches(pattern, resource, context, missing):
                return True
        except _Missing:
            continue
    return False


# -- conditions --------------------------------------------------------------------------------------------------
def _str_eq(policy: str, value: str) -> bool:
    return policy == value


def _str_eq_ic(policy: str, value: str) -> bool:
    return policy.lower() == value.lower()


def _str_like(policy: str, value: str) -> bool:
    return (
        _compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in policy), False).fullmatch(
            value
        )
        is not None
    )


def _arn_like(policy: str, value: str) -> bool:
    return _arn_matches(policy, value, Context(), set())


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric(compare: Any) -> Any:
    def check(policy: str, value: str) -> bool:
        left, right = _number(value), _number(policy)
        return left is not None and right is not None and compare(left, right)

    return check


def _date(text: str) -> datetime | None:
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _dated(compare: Any) -> Any:
    def check(policy: str, value: str) -> bool:
        left, right = _date(value), _date(policy)
        return left is not None and right is not None and compare(left, right)

    return check


def _ip(policy: str, value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(policy, strict=False)
    except ValueError:
        return False


def _bool(policy: str, value: str) -> bool:
    return policy.lower() == value.lower()


# operator -> (match one policy value against one request value, negated)
_OPERATORS: dict[str, tuple[Any, bool]] = {
    "StringEquals": (_str_eq, False),
    "StringNotEquals": (_str_eq, True),
    "StringEqualsIgnoreCase": (_str_eq_ic, False),
    "StringNotEqualsIgnoreCase": (_str_eq_ic, True),
    "StringLike": (_str_like, False),
    "StringNotLike": (_str_like, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
    "DateEquals": (_dated(lambda a, b: a == b), False),
    "DateNotEquals": (_dated(lambda a, b: a == b), True),
    "DateLessThan": (_dated(lambda a, b: a < b), False),
    "DateLessThanEquals": (_dated(lambda a, b: a <= b), False),
    "DateGreaterThan": (_dated(lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_dated(lambda a, b: a >= b), False),
    "Bool": (_bool, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
}


@dataclass(frozen=True)
class _Operator:
    name: str
    match: Any
    negated: bool
    qualifier: str | None  # ForAnyValue | ForAllValues | None
    if_exists: bool


@lru_cache(maxsize=512)
def _operator(text: str) -> _Operator:
    qualifier, _, name = text.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise PolicyError(f"Unknown condition qualifier {qualifier!r}.")
    if_exists = name.endswith("IfExists") and name != "IfExists"
    base = name[: -len("IfExists")] if if_exists else name
    if base == "Null":
        if qualifier or if_exists:
            raise PolicyError("Null takes no qualifier and no IfExists.")
        return _Operator(base, None, False, None, False)
    if base not in _OPERATORS:
        raise PolicyError(f"Unknown condition operator {text!r}.")
    match, negated = _OPERATORS[base]
    return _Operator(base, match, negated, qualifier or None, if_exists)


def _condition_key_holds(op: _Operator, key: str, policy_values: list[str], context: Context) -> bool:
    request = context.get(key)
    if op.name == "Null":
        # "true": the key is absent (or empty); "false": it is present.
        absent = not request
        return any(str(v).lower() == ("true" if absent else "false") for v in policy_values)
    if not request:
        # Absent key: IfExists holds; ForAllValues holds (vacuously); negated single-valued operators hold;
        # everything else does not (reference_policies_elements_condition_operators.html).
        if op.if_exists or op.qualifier == "ForAllValues":
            return True
        if op.qualifier == "ForAnyValue":
            return False
        return op.negated

    def one(value: str) -> bool:
        hit = any(op.match(p, value) for p in policy_values)
        return not hit if op.negated else hit

    if op.qualifier == "ForAllValues":
        return all(one(v) for v in request)
    if op.qualifier == "ForAnyValue":
        return any(one(v) for v in request)
    if op.negated:
        return all(one(v) for v in request)
    return any(one(v) for v in request)


def _conditions_hold(statement: Mapping[str, Any], context: Context, missing: set[str]) -> bool:
    """All operators AND, all keys of an operator AND, the values of one key OR (negated operators: NOR)."""
    holds = True
    for operator_name, block in (statement.get("Condition") or {}).items():
        op = _operator(operator_name)
        for key, values in block.items():
            if context.get(key) is None and op.name != "Null" and not op.if_exists:
                missing.add(key)
            try:
                policy_values = [
                    _substitute(_text(v), context, missing) if op.name != "Null" else _text(v) for v in _as_list(values)
                ]
            except _Missing:
                holds = False
                continue
            if not _condition_key_holds(op, key, policy_values, context):
                holds = False
    return holds


def _statement_applies(
    statement: Mapping[str, Any], action: str, resource: str, context: Context, missing: set[str]
) -> bool:
    if "Action" in statement:
        if not _action_matches(_as_list(statement["Action"]), action):
            return False
    elif _action_matches(_as_list(statement["NotAction"]), action):
        return False
    local_missing: set[str] = set()
    if "Resource" in statement:
        if not _resource_matches(_as_list(statement["Resource"]), resource, context, local_missing):
            if local_missing:
                # It might match once the variables are given: report everything else it would read too.
                missing |= local_missing
                _conditions_hold(statement, context, missing)
            return False
    else:
        # NotResource: a pattern with a missing variable cannot exclude the resource.
        if _resource_matches(_as_list(statement["NotResource"]), resource, context, local_missing):
            return False
    missing |= local_missing
    return _conditions_hold(statement, context, missing)


# -- evaluation --------------------------------------------------------------------------------------------------
def _matching(
    policies: Sequence[Policy], effect: str, action: str, resource: str, context: Context, missing: set[str]
) -> list[dict[str, str]]:
    found = []
    for policy in policies:
        for statement in policy.statements():
            if statement["Effect"] == effect and _statement_applies(statement, action, resource, context, missing):
                found.append({"SourcePolicyId": policy.source_id, "SourcePolicyType": policy.source_type})
    return found


def evaluate(
    action: str,
    resource: str,
    identity_policies: Sequence[Policy],
    *,
    boundary_policies: Sequence[Policy] | None = None,
    context: Mapping[str, Any] | Context | None = None,
) -> Evaluation:
    """The decision AWS's policy evaluation logic reaches for one request, without resource policies or SCPs.

    ``boundary_policies`` None means the principal has no permissions boundary; a list (even empty) means it has.
    """
    ctx = context if isinstance(context, Context) else Context(context)
    missing: set[str] = set()
    boundaries = list(boundary_policies) if boundary_policies is not None else None
    everything = list(identity_policies) + (boundaries or [])
    # 1. An explicit deny in any policy wins.
    denies = _matching(everything, "Deny", action, resource, ctx, missing)
    allows = _matching(identity_policies, "Allow", action, resource, ctx, missing)
    in_boundary = _matching(boundaries, "Allow", action, resource, ctx, missing) if boundaries is not None else []
    allowed_by_boundary = None if boundaries is None else bool(in_boundary) and not denies
    if denies:
        decision, matched = EXPLICIT_DENY, denies
    elif not allows:
        # 2. Without an Allow in an identity policy the request is implicitly denied.
        decision, matched = IMPLICIT_DENY, []
    elif boundaries is not None and not in_boundary:
        # 3. A permissions boundary sets the maximum: what it does not allow is implicitly denied.
        decision, matched = IMPLICIT_DENY, []
    else:
        decision, matched = ALLOWED, allows + in_boundary
    return Evaluation(action, resource, decision, matched, sorted(missing), allowed_by_boundary)


def simulate(
    actions: Sequence[str],
    resources: Sequence[str] | None,
    identity_policies: Sequence[Policy],
    *,
    boundary_policies: Sequence[Policy] | None = None,
    context: Mapping[str, Any] | None = None,
) -> list[Evaluation]:
    """One evaluation per action and resource, in the order asked (resources default to ``*``)."""
    ctx = Context(context)
    return [
        evaluate(action, resource, identity_policies, boundary_policies=boundary_policies, context=ctx)
        for action in actions
        for resource in (resources or ["*"])
    ]
