"""Checks that a raw AWS JSON answer matches botocore's output model for its operation.

botocore's parser ignores members it does not know and does not check required ones, so a sandbox answer can parse
and still differ from what AWS sends. These helpers look at the raw body instead.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

_session = botocore.session.get_session()


def validate(shape: Shape | None, value: Any, path: str = "$") -> list[str]:
    """Every way ``value`` departs from ``shape``, as ``path: problem`` lines (empty when it fits)."""
    if shape is None:
        return [] if value in (None, {}) else [f"{path}: the operation has no output, got {value!r}"]
    problems: list[str] = []
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: expected an object ({shape.name}), got {type(value).__name__}"]
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{path}: required member {name} is missing")
        for name, member_value in value.items():
            if name not in shape.members:
                problems.append(f"{path}: unknown member {name} (not in {shape.name})")
                continue
            problems += validate(shape.members[name], member_value, f"{path}.{name}")
        return problems
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        for index, item in enumerate(value):
            problems += validate(shape.member, item, f"{path}[{index}]")
        return problems
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {type(value).__name__}"]
        for key, item in value.items():
            problems += validate(shape.key, key, f"{path}<key {key!r}>")
            problems += validate(shape.value, item, f"{path}[{key!r}]")
        return problems
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {value!r}"]
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            problems.append(f"{path}: {value!r} is not one of {enum}")
        pattern = shape.metadata.get("pattern")
        if pattern:
            try:
                if not re.fullmatch(pattern, value):
                    problems.append(f"{path}: {value!r} does not match {pattern}")
            except re.error:
                pass  # a few AWS patterns use syntax Python's re does not know
        max_length = shape.metadata.get("max")
        if max_length is not None and len(value) > max_length:
            problems.append(f"{path}: longer than {max_length}")
        return problems
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{path}: expected an integer, got {value!r}"]
        return []
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [f"{path}: expected a number, got {value!r}"]
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    if kind == "timestamp":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return []
        if isinstance(value, str):
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
                return []
            except ValueError:
                pass
        return [f"{path}: expected a timestamp, got {value!r}"]
    if kind == "blob":
        return [] if isinstance(value, str) else [f"{path}: expected base64 text, got {value!r}"]
    return [f"{path}: shape type {kind} is not checked"]


class RawAnswers:
    """Keeps the raw JSON body of every answer a client receives, by operation name."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.bodies: list[tuple[str, int, Any]] = []
        client.meta.events.register("before-parse", self._keep)

    def _keep(self, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        raw = response_dict.get("body") or b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = raw
        self.bodies.append((operation_model.name, response_dict.get("status_code", 0), body))

    def last(self) -> tuple[str, int, Any]:
        return self.bodies[-1]


def assert_matches_model(client: Any, operation: str, body: Any) -> None:
    model = client.meta.service_model.operation_model(operation)
    problems = validate(model.output_shape, body)
    assert not problems, f"{operation} answered outside its output model:\n" + "\n".join(problems)


def call_checked(client: Any, method: str, **params: Any) -> dict[str, Any]:
    """Call ``client.<method>(**params)`` and assert the raw answer fits the operation's output model."""
    answers = getattr(client, "_raw_answers", None)
    if answers is None:
        answers = RawAnswers(client)
        client._raw_answers = answers
    result = getattr(client, method)(**params)
    operation, _status, body = answers.last()
    assert_matches_model(client, operation, body)
    return result
