"""SageMaker Studio in the sandbox: domains, user profiles, spaces, apps, tags and presigned URLs.

moto 5.2.5 has only a buggy subset of the domain operations and none of the others. This package keeps its own state
and answers the operations in AWS's JSON shapes, with AWS's validation, error codes and pagination. One code path
serves the API and the Python seeding used by the demo organisation and the benchmarks (:func:`studio_state`):

- :mod:`awssandbox.studio.validation`: names, ids, enums (botocore's model), tags and settings shapes, the errors;
- :mod:`awssandbox.studio.state`: the records, their stores and lifecycles, AWS's rules while they change;
- :mod:`awssandbox.studio.wire`: the operations on moto's SageMakerResponse (request, pagination, answer shapes).

Behaviour assumed rather than seen from AWS is kept in clearly named places: ``PROFILE_DELETE_NEEDS_NO_APPS``,
``LIFECYCLE_RULES``, :attr:`StudioState.pending_describes` (state), ``DEFAULT_SORT_ORDER``, ``HEALTH_CHECK_SECONDS``
(wire).
"""

from __future__ import annotations

from awssandbox.studio.state import (
    LIFECYCLE_RULES,
    PROFILE_DELETE_NEEDS_NO_APPS,
    AppRecord,
    DomainRecord,
    ProfileRecord,
    SpaceRecord,
    StudioState,
    studio_state,
)
from awssandbox.studio.validation import StudioError
from awssandbox.studio.wire import DEFAULT_SORT_ORDER, HEALTH_CHECK_SECONDS, OPERATIONS, install

__all__ = [
    "DEFAULT_SORT_ORDER",
    "HEALTH_CHECK_SECONDS",
    "LIFECYCLE_RULES",
    "OPERATIONS",
    "PROFILE_DELETE_NEEDS_NO_APPS",
    "AppRecord",
    "DomainRecord",
    "ProfileRecord",
    "SpaceRecord",
    "StudioError",
    "StudioState",
    "install",
    "studio_state",
]
