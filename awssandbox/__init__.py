"""The AWS sandbox: moto, pinned, extended with what it lacks for this portal.

- :mod:`awssandbox.studio`: Studio domains (with moto's bugs fixed), user profiles, spaces, apps, tags and
  presigned URLs, with AWS's validation, errors and pagination; :mod:`awssandbox.studiopage` the one-time
  tokens of those URLs and the "Studio (sandbox)" page they open.
- :mod:`awssandbox.ce`: GetCostAndUsage computed from seeded line items, GetCostForecast and cost
  allocation tags; :mod:`awssandbox.billing` writes the demo's line items.
- :mod:`awssandbox.tagging`: the Resource Groups Tagging API over Studio ARNs, and SageMaker Search with tags
  and CreatedBy; :mod:`awssandbox.identity`: IAM Identity Center seeded for the SSO domains.
- :mod:`awssandbox.iam`: SimulatePrincipalPolicy / SimulateCustomPolicy decided by
  :mod:`awssandbox.iampolicy`; :mod:`awssandbox.iamseed` the demo's roles and policies.
- :mod:`awssandbox.faults`: throttling, server errors and latency on demand.
- :mod:`awssandbox.clock`: how long Studio lifecycles take (instant unless set) and the sandbox's time.
- :mod:`awssandbox.limits`: token-bucket rate limits per account, region, service and operation family.
- :mod:`awssandbox.organisation`: the deterministic demo organisation; :mod:`awssandbox.legacy` adds legacy
  SageMaker resources at scale (untagged, attributable or not) for the tag backfill.
- :mod:`awssandbox.server`: the same thing as an HTTP server on 127.0.0.1.

moto routes every request, in process or over HTTP, through its response classes and looks the action method up by
name on each call; :func:`install` adds our methods to those classes, once per process.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from moto import mock_aws
from moto.core.responses import BaseResponse

from awssandbox import faults, limits, studiopage
from awssandbox.clock import clock

_installed = False
_install_lock = threading.Lock()


def _call_action_with_faults(original: Any) -> Any:
    def call_action(self: BaseResponse) -> Any:
        service = getattr(self, "service_name", None)
        service = faults.MOTO_SERVICES.get(service, service)
        if service in faults.SERVICES:
            operation = self._get_action()
            answer = faults.apply(service, operation)
            if answer is not None:
                return answer
            answer = limits.apply(self.current_account, self.region, service, operation)
            if answer is not None:
                return answer
        return original(self)

    call_action.__wrapped__ = original  # type: ignore[attr-defined]
    return call_action


def install() -> None:
    """Add the sandbox's operations, fault injection and rate limits to moto. Safe to call many times."""
    global _installed
    with _install_lock:
        if _installed:
            return
        from awssandbox import ce, iam, identity, legacy, studio, tagging

        studio.install()
        ce.install()
        tagging.install()
        identity.install()
        iam.install()
        legacy.install()
        BaseResponse.call_action = _call_action_with_faults(BaseResponse.call_action)  # type: ignore[method-assign]
        _installed = True


@contextlib.contextmanager
def running() -> Iterator[None]:
    """The sandbox in process: every boto3 call to AWS's real endpoints is answered by it, state starts empty."""
    install()
    faults.registry.clear()
    clock.reset()
    limits.registry.reset()
    studiopage.tokens.clear()
    with mock_aws():
        try:
            yield
        finally:
            faults.registry.clear()
            clock.reset()
            limits.registry.reset()
            studiopage.tokens.clear()
