"""Cost Explorer in the sandbox: answers computed from seeded cost line items.

moto 5.2.5 answers GetCostAndUsage only from a queue of canned answers and lacks GetCostForecast and the cost
allocation tag calls. Here every answer is computed from line items kept on moto's Cost Explorer
backend of the payer account (the caller's account), so moto's reset clears them:

- GetCostAndUsage: DAILY/MONTHLY buckets (one per period even when empty, MONTHLY clipped to the period), Filter
  (And/Or/Not/Dimensions/Tags), up to two GroupBy with AWS's ``key$value`` keys and ``key$`` for untagged spend (or
  a tag not activated for cost allocation), ``Total: {}`` when grouped, NextPageToken paging.
- GetCostForecast from the daily average of the 30 days before today, within AWS's horizons (3 months DAILY,
  18 months MONTHLY); a Start in the future is refused by GetCostAndUsage.
- A NextPageToken belongs to its request: sent with other parameters it answers RequestChangedException.
- ListCostAllocationTags / UpdateCostAllocationTagsStatus over the tag keys the line items carry. A status changed
  through the API applies from that day onward; history changes only through StartCostAllocationTagBackfill
  (ListCostAllocationTagBackfillHistory lists the requests).

Choices where AWS leaves room (kept here, easy to correct):
- a page holds at most :attr:`CostState.page_size` rows, a row being one (period, group) pair or one ungrouped
  period; the periods of a page follow each other, and the client merges pages by TimePeriod;
- ``Estimated`` is true for periods that reach into the current month (AWS finalises a month after it closes);
- amortized, blended and net costs equal the unblended cost (the demo has no reservations or credits);
- tags discovered from line items are ``UserDefined`` and start ``Active``; :func:`set_tag_status` (seeding) sets a
  status for the whole history, as if it had always been so;
- ASSUMED (see BACKFILL_* and FORECAST_HORIZON_MONTHS below): a status change applies from the day it is made (AWS:
  "can take up to 24 hours to activate", Billing user guide "Activating user-defined cost allocation tags"); a
  backfill completes at once (AWS reports PROCESSING for a while); the forecast horizons are counted in calendar
  months from today (GetCostForecast API reference: "up to 18 months ... MONTHLY, 3 months ... DAILY").
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from moto.ce.models import ce_backends
from moto.ce.responses import CostExplorerResponse

COST_METRICS = ("UnblendedCost", "AmortizedCost", "BlendedCost", "NetUnblendedCost", "NetAmortizedCost")
USAGE_METRICS = ("UsageQuantity", "NormalizedUsageAmount")
FORECAST_METRICS = {
    "UNBLENDED_COST": "UnblendedCost",
    "AMORTIZED_COST": "AmortizedCost",
    "BLENDED_COST": "BlendedCost",
    "NET_UNBLENDED_COST": "NetUnblendedCost",
    "NET_AMORTIZED_COST": "NetAmortizedCost",
}
DIMENSIONS = ("SERVICE", "LINKED_ACCOUNT", "REGION", "USAGE_TYPE", "RECORD_TYPE")
HISTORY_MONTHS = 14  # how far back data is available (AWS: 13 months and the current one, without opt-in)
FORECAST_HORIZON_MONTHS = {"DAILY": 3, "MONTHLY": 18}
# StartCostAllocationTagBackfill API reference: "The date can only be a first day of the month ... Dates can't precede
# the previous twelve months, or in the future", "You can request a backfill once every 24 hours".
BACKFILL_MONTHS = 12
BACKFILL_EVERY = timedelta(hours=24)


class CeError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> CeError:
    return CeError("ValidationException", message)


@dataclass(frozen=True)
class LineItem:
    """One day of one usage of one resource, as the bill shows it."""

    day: date
    linked_account: str
    region: str
    usage_type: str
    amount: Decimal  # unblended cost, USD
    tags: tuple[tuple[str, str], ...] = ()
    service: str = "Amazon SageMaker"
    record_type: str = "Usage"
    usage_quantity: Decimal = Decimal("0")

    def dimension(self, name: str) -> str:
        return {
            "SERVICE": self.service,
            "LINKED_ACCOUNT": self.linked_account,
            "REGION": self.region,
            "USAGE_TYPE": self.usage_type,
            "RECORD_TYPE": self.record_type,
        }[name]

    def tag(self, key: str) -> str | None:
        for k, v in self.tags:
            if k == key:
                return v
        return None


@dataclass
class CostState:
    """The bill of one payer account."""

    items: list[LineItem] = field(default_factory=list)
    inactive_tags: set[str] = field(default_factory=set)  # the status now
    tag_updated: dict[str, date] = field(default_factory=dict)
    # The status over time, per tag key: (from this day, active), in order; a key without entries was always active.
    tag_timeline: dict[str, list[tuple[date, bool]]] = field(default_factory=dict)
    backfills: list[dict[str, str]] = field(default_factory=list)  # newest first
    page_size: int = 5000
    today: date | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Answers computed for a request, reused for its following pages; emptied whenever the bill changes.
    answers: dict[str, Any] = field(default_factory=dict)

    def changed(self) -> None:
        self.answers.clear()

    def current_day(self) -> date:
        return self.today or date.today()

    def now(self) -> datetime:
        moment = datetime.now(UTC)
        return moment if self.today is None else datetime.combine(self.today, moment.timetz())

    def visibility(self) -> TagVisibility:
        with self.lock:
            return TagVisibility({key: list(line) for key, line in self.tag_timeline.items()})

    def change_status(self, key: str, active: bool, since: date | None, *, touch: bool = True) -> None:
        """``key`` is active or not from ``since`` onward (None: for the whole history). Hold the lock."""
        if active:
            self.inactive_tags.discard(key)
        else:
            self.inactive_tags.add(key)
        if touch:
            self.tag_updated[key] = self.current_day()
        if since is None:
            self.tag_timeline[key] = [(date.min, active)]
        else:
            line = [entry for entry in self.tag_timeline.get(key, []) if entry[0] < since]
            self.tag_timeline[key] = [*line, (since, active)]
        self.changed()

    def tag_keys(self) -> list[str]:
        return sorted({k for item in self.items for k, _ in item.tags})


class TagVisibility:
    """Whether a tag's value shows on the spend of a given day (a snapshot of the tag timelines)."""

    def __init__(self, timeline: dict[str, list[tuple[date, bool]]]) -> None:
        self._timeline = timeline

    def hidden(self, key: str, day: date) -> bool:
        active = True
        for since, status in self._timeline.get(key, ()):
            if since > day:
                break
            active = status
        return not active


_state_lock = threading.Lock()


def cost_state(payer_account_id: str) -> CostState:
    """The bill of ``payer_account_id`` (created on first use, cleared by moto's reset)."""
    backend = ce_backends[payer_account_id]["aws"]
    state = getattr(backend, "_cost_state", None)
    if state is None:
        with _state_lock:
            state = getattr(backend, "_cost_state", None)
            if state is None:
                state = CostState()
                backend._cost_state = state
    return state


def add_line_items(payer_account_id: str, items: Iterable[LineItem]) -> int:
    state = cost_state(payer_account_id)
    new = list(items)
    with state.lock:
        state.items.extend(new)
        state.changed()
    return len(new)


def set_page_size(payer_account_id: str, rows: int) -> None:
    if rows < 1:
        raise ValueError("A page holds at least one row.")
    cost_state(payer_account_id).page_size = rows


def set_tag_status(payer_account_id: str, key: str, status: str) -> None:
    """Seed a tag's status for the whole history (the API's UpdateCostAllocationTagsStatus applies from today)."""
    state = cost_state(payer_account_id)
    with state.lock:
        state.change_status(key, status != "Inactive", None)


def set_today(payer_account_id: str, today: date | None) -> None:
    state = cost_state(payer_account_id)
    state.today = today
    state.changed()


# -- expressions ------------------------------------------------------------------------------------------------
def _check_expression(expr: Any, path: str = "Filter") -> None:
    if not isinstance(expr, dict):
        raise _invalid(f"{path} must be an expression object.")
    present = [k for k in ("And", "Or", "Not", "Dimensions", "Tags", "CostCategories") if expr.get(k)]
    if len(present) != 1:
        raise _invalid(
            f"{path}: an expression must have exactly one of And, Or, Not, Dimensions, Tags or "
            f"CostCategories (found {', '.join(present) or 'none'})."
        )
    kind = present[0]
    if kind in ("And", "Or"):
        if not isinstance(expr[kind], list) or len(expr[kind]) < 2:
            raise _invalid(f"{path}.{kind} needs at least two expressions.")
        for index, sub in enumerate(expr[kind]):
            _check_expression(sub, f"{path}.{kind}[{index}]")
    elif kind == "Not":
        _check_expression(expr["Not"], f"{path}.Not")
    elif kind == "Dimensions":
        dim = expr["Dimensions"]
        if dim.get("Key") not in DIMENSIONS:
            raise _invalid(
                f"{path}.Dimensions.Key {dim.get('Key')!r} is not supported; use one of {', '.join(DIMENSIONS)}."
            )
        if not dim.get("Values"):
            raise _invalid(f"{path}.Dimensions.Values must not be empty.")
    elif kind == "Tags":
        tags = expr["Tags"]
        if not tags.get("Key"):
            raise _invalid(f"{path}.Tags.Key is required.")
        options = tags.get("MatchOptions") or ["EQUALS"]
        if not set(options) <= {"EQUALS", "ABSENT"}:
            raise _invalid(f"{path}.Tags.MatchOptions {options} is not supported here (EQUALS, ABSENT).")
    else:
        raise _invalid(f"{path}: cost categories are not defined in this account.")


def _matches(expr: dict[str, Any] | None, item: LineItem, visibility: TagVisibility) -> bool:
    if not expr:
        return True
    if expr.get("And"):
        return all(_matches(sub, item, visibility) for sub in expr["And"])
    if expr.get("Or"):
        return any(_matches(sub, item, visibility) for sub in expr["Or"])
    if expr.get("Not"):
        return not _matches(expr["Not"], item, visibility)
    if expr.get("Dimensions"):
        dim = expr["Dimensions"]
        return item.dimension(dim["Key"]) in dim["Values"]
    tags = expr["Tags"]
    key = tags["Key"]
    value = None if visibility.hidden(key, item.day) else item.tag(key)
    options = tags.get("MatchOptions") or ["EQUALS"]
    if "ABSENT" in options:
        return value is None
    wanted = tags.get("Values") or []
    return (value or "") in wanted


# -- periods ----------------------------------------------------------------------------------------------------
def _parse_day(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _invalid(f"{name} {value!r} is not a date in YYYY-MM-DD form.") from None


def _time_period(period: Any) -> tuple[date, date]:
    if not isinstance(period, dict) or "Start" not in period or "End" not in period:
        raise _invalid("TimePeriod needs Start and End (End is exclusive).")
    start, end = _parse_day(period["Start"], "Start"), _parse_day(period["End"], "End")
    if start >= end:
        raise _invalid(f"Start date {start} must be before end date {end}.")
    return start, end


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    following = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return min(date(year, month + 1, 1) + timedelta(days=day.day - 1), following - timedelta(days=1))


def _buckets(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    buckets = []
    cursor = start
    while cursor < end:
        if granularity == "DAILY":
            following = cursor + timedelta(days=1)
        else:
            following = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
        buckets.append((cursor, min(following, end)))
        cursor = following
    return buckets


def _amount(value: Decimal) -> str:
    text = format(value.quantize(Decimal("0.0000000001")).normalize(), "f")
    return "0" if text in ("-0", "0E-10") else text


def _metric_block(sums: dict[str, Decimal], metrics: list[str]) -> dict[str, dict[str, str]]:
    return {
        m: {"Amount": _amount(sums.get(m, Decimal(0))), "Unit": "N/A" if m in USAGE_METRICS else "USD"} for m in metrics
    }


def _token(offset: int, signature: str = "") -> str:
    request = hashlib.sha256(signature.encode()).hexdigest()[:16]
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "r": request}).encode()).decode()


def _offset(token: Any, signature: str = "") -> int:
    """The offset a token stands for; it must come back with the request (minus the token) that gave it."""
    if not token:
        return 0
    try:
        decoded = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        offset, request = int(decoded["o"]), str(decoded["r"])
    except (ValueError, KeyError, TypeError):
        raise CeError("InvalidNextTokenException", "The NextPageToken is not valid.") from None
    if offset < 0:
        raise CeError("InvalidNextTokenException", "The NextPageToken is not valid.")
    if request != hashlib.sha256(signature.encode()).hexdigest()[:16]:
        raise CeError(
            "RequestChangedException",
            "The request parameters changed between paginated calls: send the NextPageToken with the same request.",
        )
    return offset


# -- operations -------------------------------------------------------------------------------------------------
def get_cost_and_usage(state: CostState, p: dict[str, Any]) -> dict[str, Any]:
    start, end = _time_period(p.get("TimePeriod"))
    granularity = p.get("Granularity")
    if granularity == "HOURLY":
        raise _invalid("Hourly granularity needs hourly data to be enabled in Cost Explorer preferences.")
    if granularity not in ("DAILY", "MONTHLY"):
        raise _invalid(f"Granularity {granularity!r} is not one of DAILY, MONTHLY, HOURLY.")
    metrics = p.get("Metrics") or []
    if not metrics:
        raise _invalid("Metrics must name at least one metric.")
    unknown = [m for m in metrics if m not in COST_METRICS + USAGE_METRICS]
    if unknown:
        raise _invalid(f"Unknown metrics {unknown}; use {', '.join(COST_METRICS + USAGE_METRICS)}.")
    group_by = p.get("GroupBy") or []
    if len(group_by) > 2:
        raise _invalid("GroupBy takes at most two groups.")
    for group in group_by:
        if group.get("Type") == "DIMENSION" and group.get("Key") not in DIMENSIONS:
            raise _invalid(f"Group Definition dimension {group.get('Key')!r} is not supported here.")
        if group.get("Type") not in ("DIMENSION", "TAG"):
            raise _invalid(f"Group Definition type {group.get('Type')!r} must be DIMENSION or TAG.")
        if not group.get("Key"):
            raise _invalid("Group Definition key is required.")
    if p.get("Filter") is not None:
        _check_expression(p["Filter"])
    today = state.current_day()
    if start > today:
        raise _invalid(f"Start date {start} is after the current date {today}: there is no cost data in the future.")
    months = today.year * 12 + today.month - 1 - HISTORY_MONTHS
    earliest = date(months // 12, months % 12 + 1, 1)
    if start < earliest:
        raise CeError("DataUnavailableException", f"Data is not available for dates before {earliest}.")

    signature = json.dumps({k: v for k, v in p.items() if k != "NextPageToken"}, sort_keys=True, default=str)
    with state.lock:
        computed = state.answers.get(signature)
    if computed is None:
        computed = _compute(state, p, start, end, granularity, metrics, group_by)
        with state.lock:
            state.answers[signature] = computed
    buckets, sums, rows = computed
    offset = _offset(p.get("NextPageToken"), signature)
    if offset > len(rows):
        raise CeError("InvalidNextTokenException", "The NextPageToken is not valid.")
    page = rows[offset : offset + state.page_size]
    results: list[dict[str, Any]] = []
    current_month = date(today.year, today.month, 1)
    for index, keys in page:
        b_start, b_end = buckets[index]
        if not results or results[-1]["_index"] != index:
            results.append(
                {
                    "_index": index,
                    "TimePeriod": {"Start": b_start.isoformat(), "End": b_end.isoformat()},
                    "Total": {},
                    "Groups": [],
                    "Estimated": b_end > current_month,
                }
            )
        entry = results[-1]
        if group_by:
            if keys is not None:
                entry["Groups"].append({"Keys": list(keys), "Metrics": _metric_block(sums[(index, keys)], metrics)})
        else:
            entry["Total"] = _metric_block(sums.get((index, ()), {}), metrics)
    for entry in results:
        del entry["_index"]
    answer: dict[str, Any] = {"ResultsByTime": results, "DimensionValueAttributes": []}
    if group_by:
        answer["GroupDefinitions"] = [{"Type": g["Type"], "Key": g["Key"]} for g in group_by]
    if offset + state.page_size < len(rows):
        answer["NextPageToken"] = _token(offset + state.page_size, signature)
    return answer


def _compute(
    state: CostState,
    p: dict[str, Any],
    start: date,
    end: date,
    granularity: str,
    metrics: list[str],
    group_by: list[dict[str, str]],
) -> tuple[list[tuple[date, date]], Any, list[Any]]:
    """Every (period, group) row of a request, in order; computed once per request, whatever its page."""
    buckets = _buckets(start, end, granularity)
    index_of_day: dict[date, int] = {}
    for index, (b_start, b_end) in enumerate(buckets):
        day = b_start
        while day < b_end:
            index_of_day[day] = index
            day += timedelta(days=1)
    visibility = state.visibility()
    sums: dict[tuple[int, tuple[str, ...]], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    with state.lock:
        items = list(state.items)
    for item in items:
        index = index_of_day.get(item.day)
        if index is None or not _matches(p.get("Filter"), item, visibility):
            continue
        keys = tuple(_group_key(item, group, visibility) for group in group_by)
        bucket = sums[(index, keys)]
        for metric in metrics:
            bucket[metric] += item.usage_quantity if metric in USAGE_METRICS else item.amount

    groups_of: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    for index, keys in sums:
        groups_of[index].append(keys)
    rows: list[tuple[int, tuple[str, ...] | None]] = []
    for index in range(len(buckets)):
        groups = sorted(groups_of.get(index, []))
        if group_by and groups:
            rows.extend((index, keys) for keys in groups)
        else:
            rows.append((index, None))
    return buckets, sums, rows


def _group_key(item: LineItem, group: dict[str, str], visibility: TagVisibility) -> str:
    if group["Type"] == "DIMENSION":
        return item.dimension(group["Key"])
    key = group["Key"]
    value = None if visibility.hidden(key, item.day) else item.tag(key)
    return f"{key}${value or ''}"


def get_cost_forecast(state: CostState, p: dict[str, Any]) -> dict[str, Any]:
    start, end = _time_period(p.get("TimePeriod"))
    today = state.current_day()
    if start < today:
        raise _invalid(f"Start date {start} must be today ({today}) or later for a forecast.")
    metric = p.get("Metric")
    if metric not in FORECAST_METRICS:
        raise _invalid(f"Metric {metric!r} is not one of {', '.join(FORECAST_METRICS)}.")
    granularity = p.get("Granularity")
    if granularity not in ("DAILY", "MONTHLY"):
        raise _invalid(f"Granularity {granularity!r} must be DAILY or MONTHLY for a forecast.")
    horizon = _add_months(today, FORECAST_HORIZON_MONTHS[granularity])
    if end > horizon:
        raise _invalid(
            f"End date {end} is beyond the forecast horizon of {granularity} forecasts: "
            f"{FORECAST_HORIZON_MONTHS[granularity]} months, until {horizon}."
        )
    level = p.get("PredictionIntervalLevel", 80)
    if not isinstance(level, int) or not 51 <= level <= 99:
        raise _invalid("PredictionIntervalLevel must be between 51 and 99.")
    if p.get("Filter") is not None:
        _check_expression(p["Filter"])
    window_start = today - timedelta(days=30)
    visibility = state.visibility()
    with state.lock:
        recent = sum(
            (
                i.amount
                for i in state.items
                if window_start <= i.day < today and _matches(p.get("Filter"), i, visibility)
            ),
            Decimal(0),
        )
    daily = recent / 30
    spread = Decimal(level - 50) / Decimal(250)  # 80% -> +/-12%
    results = []
    total = Decimal(0)
    for b_start, b_end in _buckets(start, end, granularity):
        mean = daily * (b_end - b_start).days
        total += mean
        results.append(
            {
                "TimePeriod": {"Start": b_start.isoformat(), "End": b_end.isoformat()},
                "MeanValue": _amount(mean),
                "PredictionIntervalLowerBound": _amount(mean * (1 - spread)),
                "PredictionIntervalUpperBound": _amount(mean * (1 + spread)),
            }
        )
    return {"Total": {"Amount": _amount(total), "Unit": "USD"}, "ForecastResultsByTime": results}


def list_cost_allocation_tags(state: CostState, p: dict[str, Any]) -> dict[str, Any]:
    status, tag_type, keys = p.get("Status"), p.get("Type"), p.get("TagKeys")
    if status is not None and status not in ("Active", "Inactive"):
        raise _invalid("Status must be Active or Inactive.")
    if tag_type is not None and tag_type not in ("AWSGenerated", "UserDefined"):
        raise _invalid("Type must be AWSGenerated or UserDefined.")
    max_results = p.get("MaxResults", 100)
    if not isinstance(max_results, int) or not 1 <= max_results <= 1000:
        raise _invalid("MaxResults must be between 1 and 1000.")
    tags = []
    with state.lock:
        for key in state.tag_keys():
            tag_status = "Inactive" if key in state.inactive_tags else "Active"
            if status and tag_status != status or tag_type and tag_type != "UserDefined" or keys and key not in keys:
                continue
            entry = {"TagKey": key, "Type": "UserDefined", "Status": tag_status}
            if key in state.tag_updated:
                entry["LastUpdatedDate"] = f"{state.tag_updated[key].isoformat()}T00:00:00Z"
            last_used = max((i.day for i in state.items if i.tag(key) is not None), default=None)
            if last_used:
                entry["LastUsedDate"] = f"{last_used.isoformat()}T00:00:00Z"
            tags.append(entry)
    offset = _offset(p.get("NextToken"))
    answer: dict[str, Any] = {"CostAllocationTags": tags[offset : offset + max_results]}
    if offset + max_results < len(tags):
        answer["NextToken"] = _token(offset + max_results)
    return answer


def update_cost_allocation_tags_status(state: CostState, p: dict[str, Any]) -> dict[str, Any]:
    entries = p.get("CostAllocationTagsStatus") or []
    if not 1 <= len(entries) <= 20:
        raise _invalid("CostAllocationTagsStatus takes between 1 and 20 entries.")
    known = set(state.tag_keys())
    errors = []
    for entry in entries:
        if entry.get("Status") not in ("Active", "Inactive"):
            raise _invalid(f"Status of {entry.get('TagKey')!r} must be Active or Inactive.")
        if entry.get("TagKey") not in known:
            errors.append(
                {
                    "TagKey": entry.get("TagKey", ""),
                    "Code": "TagKeysNotFoundException",
                    "Message": "The tag key was not found in this account's cost and usage data.",
                }
            )
            continue
        with state.lock:
            active = entry["Status"] == "Active"
            if active == (entry["TagKey"] in state.inactive_tags):  # a change, from today onward
                state.change_status(entry["TagKey"], active, state.current_day())
    return {"Errors": errors}


def _zoned(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_cost_allocation_tag_backfill(state: CostState, p: dict[str, Any]) -> dict[str, Any]:
    raw = p.get("BackfillFrom")
    try:
        since = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"BackfillFrom {raw!r} is not a date and time like 2026-01-01T00:00:00Z.") from None
    since = since.replace(tzinfo=since.tzinfo or UTC).astimezone(UTC)
    today = state.current_day()
    months = today.year * 12 + today.month - 1 - BACKFILL_MONTHS
    earliest = date(months // 12, months % 12 + 1, 1)
    if since.day != 1 or since.time() != datetime.min.time():
        raise _invalid(f"BackfillFrom {raw} must be the first day of a month at 00:00:00 UTC.")
    if since.date() > today:
        raise _invalid(f"BackfillFrom {raw} is in the future.")
    if since.date() < earliest:
        raise _invalid(f"BackfillFrom {raw} is more than {BACKFILL_MONTHS} months back; the earliest is {earliest}.")
    now = state.now()
    with state.lock:
        if state.backfills:
            last = datetime.fromisoformat(state.backfills[0]["RequestedAt"].replace("Z", "+00:00"))
            if now - last < BACKFILL_EVERY:
                raise CeError(
                    "BackfillLimitExceededException",
                    f"A backfill was requested at {state.backfills[0]['RequestedAt']}; request one every 24 hours.",
                )
        for key in state.tag_keys():
            state.change_status(key, key not in state.inactive_tags, since.date(), touch=False)
        request = {
            "BackfillFrom": _zoned(since),
            "RequestedAt": _zoned(now),
            "CompletedAt": _zoned(now),
            "BackfillStatus": "SUCCEEDED",
            "LastUpdatedAt": _zoned(now),
        }
        state.backfills.insert(0, request)
    return {"BackfillRequest": request}


def list_cost_allocation_tag_backfill_history(state: CostState, p: dict[str, Any]) -> dict[str, Any]:
    max_results = p.get("MaxResults", 100)
    if not isinstance(max_results, int) or not 1 <= max_results <= 1000:
        raise _invalid("MaxResults must be between 1 and 1000.")
    with state.lock:
        requests = list(state.backfills)
    offset = _offset(p.get("NextToken"))
    answer: dict[str, Any] = {"BackfillRequests": requests[offset : offset + max_results]}
    if offset + max_results < len(requests):
        answer["NextToken"] = _token(offset + max_results)
    return answer


def _answer(handler: Any) -> Any:
    def method(self: CostExplorerResponse) -> Any:
        state = cost_state(self.current_account)
        params = json.loads(self.body or "{}") if isinstance(self.body, str | bytes) else {}
        try:
            payload = handler(state, params)
        except CeError as exc:
            return (
                400,
                {"Content-Type": "application/x-amz-json-1.1", "status": 400},
                json.dumps({"__type": exc.code, "Message": exc.message}),
            )
        return json.dumps(payload)

    method.__name__ = handler.__name__
    return method


OPERATIONS = [
    get_cost_and_usage,
    get_cost_forecast,
    list_cost_allocation_tags,
    update_cost_allocation_tags_status,
    start_cost_allocation_tag_backfill,
    list_cost_allocation_tag_backfill_history,
]


def install() -> None:
    for handler in OPERATIONS:
        setattr(CostExplorerResponse, handler.__name__, _answer(handler))
