"""What the OpenAPI schema says about errors, in one place: every operation of the API may answer them."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "What went wrong: ``detail`` (a message or a list of messages), or the messages of each field that was "
        "refused, by field name."
    ),
    "additionalProperties": {},
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def declare_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: declare the portal's error answers on every operation.

    400: bad input (any operation that reads a body or a query string; text with a NUL anywhere).
    403: not logged in, or an action the caller's role does not allow.
    404: no such object, or one out of the caller's scope (the portal answers both alike), or a page of a list
    that does not exist.
    415: a body in a content type the API does not read (operations that take a body).
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("400", _error("Bad input; the body says what and where."))
            responses.setdefault("403", _error("Not logged in, or not allowed to do this."))
            responses.setdefault("404", _error("No such object, or none the caller may see."))
            if "requestBody" in operation:
                responses.setdefault("415", _error("A body in a content type the API does not read."))
    return result
