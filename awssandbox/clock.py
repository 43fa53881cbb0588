"""The sandbox clock: how long Studio lifecycles take, and a time that tests can move forward without sleeping.

AWS does not create or delete Studio resources at once: a new profile, space, app or domain is ``Pending`` before
``InService``, an update is ``Updating``, a deleted app is ``Deleting`` before ``Deleted``, and a deleted space,
profile or domain is ``Deleting`` before it is gone. :mod:`awssandbox.studio` asks this clock how long each
transition takes (per resource kind) and what time it is.

Every duration is 0 unless set (transitions are instant, so tests that do not opt in stay fast). They are set in
process (:data:`clock`), over HTTP on the sandbox server (``/_sandbox/clock``) or, for the demo and ``manage.py
sandbox``, from the ``AWS_SANDBOX_LIFECYCLE_SECONDS`` setting. :meth:`SandboxClock.advance` moves the sandbox's time
forward so a test can pass a 20-minute deletion in no time.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

KINDS = ("domain", "profile", "space", "app")
TRANSITIONS = ("create", "update", "delete")

# ASSUMED: AWS publishes no durations. Public reports say app deletion "can take up to 20 minutes" and a new
# domain takes a few minutes (developer guide: domain-user-profile-remove, gs-studio-onboard). These are what the
# demo uses when the setting names no figure; the suite uses 0 (instant) unless a test opts in.
DEMO_SECONDS: dict[str, float] = {
    "domain.create": 8,
    "domain.update": 4,
    "domain.delete": 8,
    "profile.create": 4,
    "profile.update": 3,
    "profile.delete": 4,
    "space.create": 4,
    "space.update": 3,
    "space.delete": 4,
    "app.create": 6,
    "app.delete": 6,
}
VALID = {f"{kind}.{step}" for kind in KINDS for step in TRANSITIONS} - {"app.update"}  # apps have no update

# ASSUMED: ListApps keeps showing Deleted apps "for a while" (AWS names no figure). The sandbox lists and describes a
# Deleted app for this long after it became Deleted, then forgets it (sandbox time, so advance() passes it too).
DELETED_APP_VISIBLE_SECONDS = 3600


class ClockError(ValueError):
    """A duration or a step of time that cannot be applied; the message says why."""


class SandboxClock:
    """Durations per ``kind.transition`` (``app.delete``...) in seconds, and the sandbox's time (real time plus
    whatever :meth:`advance` added)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._defaults: dict[str, float] = {}
        self._seconds: dict[str, float] = {}
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back on its own and moves with :meth:`advance` (the rate limits'
        token buckets read it, so a test refills a bucket by advancing the sandbox's time, not by sleeping)."""
        return time.monotonic() + self._offset.total_seconds()

    def seconds(self, kind: str, transition: str) -> float:
        return self._seconds.get(f"{kind}.{transition}", 0.0)

    def until(self, kind: str, transition: str, start: datetime | None = None) -> datetime | None:
        """When a transition that starts now (or at ``start``) ends; None when it is instant."""
        seconds = self.seconds(kind, transition)
        return (start or self.now()) + timedelta(seconds=seconds) if seconds else None

    def durations(self) -> dict[str, float]:
        return {key: self._seconds.get(key, 0.0) for key in sorted(VALID)}

    def set(self, durations: dict[str, Any]) -> dict[str, float]:
        """Set some durations (others keep theirs); refuses the whole change if one is wrong."""
        checked = _check(durations)
        with self._lock:
            self._seconds.update(checked)
        return self.durations()

    def set_defaults(self, durations: dict[str, Any]) -> None:
        """The durations :meth:`reset` goes back to (the demo's, from its setting)."""
        checked = _check(durations)
        with self._lock:
            self._defaults = checked
            self._seconds = dict(checked)

    def advance(self, seconds: Any) -> datetime:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 30 * 86400:
            raise ClockError(f"advance must be a number of seconds between 0 and 2592000, not {seconds!r}.")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        """Back to the default durations and real time."""
        with self._lock:
            self._seconds = dict(self._defaults)
            self._offset = timedelta(0)

    def as_json(self) -> dict[str, Any]:
        return {"now": self.now().isoformat(), "seconds": self.durations()}


def _check(durations: Any) -> dict[str, float]:
    if not isinstance(durations, dict):
        raise ClockError('Send the durations as an object such as {"app.delete": 20}.')
    checked: dict[str, float] = {}
    for key, value in durations.items():
        if key not in VALID:
            raise ClockError(f"Unknown transition {key!r}; use one of {', '.join(sorted(VALID))}.")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 86400:
            raise ClockError(f"{key} must be a number of seconds between 0 and 86400, not {value!r}.")
        checked[key] = float(value)
    return checked


def parse_setting(text: str) -> dict[str, float]:
    """``AWS_SANDBOX_LIFECYCLE_SECONDS``: ``demo`` (the table above), ``0`` (instant), a number for every transition,
    or ``app.delete=20,space.create=5`` (the rest instant)."""
    text = text.strip()
    if text in ("", "0"):
        return {}
    if text == "demo":
        return dict(DEMO_SECONDS)
    try:
        every = float(text)
    except ValueError:
        pairs: dict[str, Any] = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            if not sep:
                raise ClockError(f"Expected kind.transition=seconds, not {part!r}.") from None
            try:
                pairs[key.strip()] = float(value)
            except ValueError:
                raise ClockError(f"{key.strip()} must be a number of seconds, not {value!r}.") from None
        return _check(pairs)
    return _check(dict.fromkeys(VALID, every))


clock = SandboxClock()
