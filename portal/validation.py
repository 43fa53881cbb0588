"""The one layer that refuses input no form, serializer or filter of the portal can take, before any of them runs,
and the bounds of every number a person types, shared by models, forms and serializers.

Text with a NUL character: PostgreSQL refuses it in any text column or lookup, so a NUL that reached the ORM
answered 500 wherever a field looks a value up (a user name, a domain ARN, a filter). JSON nested deeper than any
request of the API needs: Python's parser recurses and gave up with a RecursionError. ``BadInputMiddleware``
answers both with a 400 naming the field, for the pages (a page with the message) and the API (its error body).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string

NUL = "\x00"
MAX_JSON_DEPTH = 32  # the deepest request body of the API is 3 levels


@dataclass(frozen=True)
class Bounds:
    """The smallest and largest value of a number a person types (AWS's limits where AWS has one)."""

    low: int
    high: int

    def validators(self) -> list[Any]:
        return [MinValueValidator(self.low), MaxValueValidator(self.high)]

    def field_kwargs(self) -> dict[str, int]:
        """``min_value``/``max_value`` for a Django form field or a DRF serializer field."""
        return {"min_value": self.low, "max_value": self.high}

    def check(self, value: int, label: str) -> None:
        from django.core.exceptions import ValidationError

        if not self.low <= value <= self.high:
            raise ValidationError(f"{label} must be from {self.low} to {self.high}.")


# A SageMaker space's EBS volume: 5 to 16384 GiB (CreateSpace, EbsStorageSettings.EbsVolumeSizeInGb).
EBS_SIZE_GB = Bounds(5, 16384)
# Idle shutdown of JupyterLab / Code Editor apps: 60 to 525600 minutes (IdleSettings.IdleTimeoutInMinutes).
IDLE_TIMEOUT_MINUTES = Bounds(60, 525600)
# How long a shared space may live (days) and how many a domain approves by quota.
SPACE_DAYS = Bounds(1, 730)
AUTO_APPROVE_QUOTA = Bounds(0, 100)
# Budget alert thresholds, percent of the monthly amount, and how many a budget has (each sends up to two emails
# a month: actual and forecast).
THRESHOLD_PERCENT = Bounds(1, 200)
MAX_THRESHOLDS = 5


class BadInput(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _label(name: str) -> str:
    """A field name fit to show (a key may hold the NUL itself)."""
    return name.replace(NUL, "\\x00")


def _nul_message(field: str) -> str:
    return f"{field or 'The request'} contains a NUL character (\\x00), which no text in the portal may contain."


def _walk(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in ``value`` (keys too) with the field it came from, without recursion."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, field, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadInput(field or "detail", f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
        if isinstance(item, str):
            yield field, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield field or str(key), str(key)
                stack.append((child, field or str(key), depth + 1))
        elif isinstance(item, list):
            stack.extend((child, field, depth + 1) for child in item)


def check_query_dict(data: Any) -> None:
    """Refuse a NUL in a query string or form body (keys and values)."""
    for key, values in data.lists():
        for text in (key, *values):
            if isinstance(text, str) and NUL in text:
                raise BadInput(_label(key), _nul_message(_label(key)))


def check_json(body: bytes) -> None:
    """Refuse a JSON body nested too deeply or with a NUL in any string; malformed JSON is left to the parser."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise BadInput("detail", f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.") from None
    except ValueError:
        return
    for field, text in _walk(data, ""):
        if NUL in text:
            raise BadInput(_label(field) or "detail", _nul_message(_label(field)))


def check_request(request: HttpRequest) -> None:
    if NUL in request.path:
        raise BadInput("path", _nul_message("The address"))
    check_query_dict(request.GET)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.content_type or ""
    try:
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                check_query_dict(request.POST)
            except MultiPartParserError:
                raise BadInput("detail", "The multipart body cannot be read.") from None
        elif content_type == "application/json" or content_type.endswith("+json"):
            check_json(request.body)
    except TooManyFieldsSent:
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        raise BadInput("detail", f"Too many fields: at most {limit}; send a long list as JSON.") from None
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise BadInput("detail", f"The request body is larger than {limit} bytes.") from None


def bad_request(request: HttpRequest, message: str, field: str = "detail") -> HttpResponse:
    """A 400 with the message: the API's error body (``{field: [message]}``), or a page (a fragment for HTMX)."""
    if request.path.startswith("/api/"):
        return JsonResponse({field: [message]}, status=400)
    if getattr(request, "htmx", False):
        return HttpResponse(
            render_to_string("portal/_bad_request.html", {"message": message}, request=request), status=400
        )
    return HttpResponse(render_to_string("portal/bad_request.html", {"message": message}, request=request), status=400)


class BadInputMiddleware:
    """Answers 400 to text with a NUL, to JSON nested too deeply and to a body over Django's limits (fields, size),
    for every page and API endpoint."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            check_request(request)
        except BadInput as exc:
            return bad_request(request, exc.message, exc.field)
        return self.get_response(request)
