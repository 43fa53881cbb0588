"""Apps' last user activity: the one thing about an app that ListApps does not say, read with DescribeApp only for
the apps that need it.

The sync never describes apps. Who asks for activity, and for which apps:

- governance check CO-04 (idle apps), before each scheduled posture check: the running apps on a billed instance
  type that the stored activity would flag as idle (:func:`governance.checks.co04_activity_wanted`). An app whose
  stored activity is recent enough is not idle whatever AWS says now, so it is not described.

No page calls AWS: the app lists and the idle-apps page show the activity as last read, with when it was read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from portal.aws import gateway
from profiles.models import App
from profiles.services import store_app_activity


def describe_params(app: App) -> dict[str, Any]:
    params = {"DomainId": app.domain.domain_id, "AppType": app.app_type, "AppName": app.name}
    if app.space_name:
        params["SpaceName"] = app.space_name
    else:
        params["UserProfileName"] = app.user_profile_name
    return params


def refresh_app_activity(apps: Iterable[App]) -> int:
    """DescribeApp each of these apps (through the gateway, so under the rate budget) and store their activity; the
    number of apps whose activity or status changed. An app AWS no longer has is left to the next sync."""
    from botocore.exceptions import ClientError

    by_domain: dict[int, list[App]] = defaultdict(list)
    for app in apps:
        by_domain[app.domain_id].append(app)
    answers: dict[int, dict[str, Any]] = {}
    for members in by_domain.values():
        domain = members[0].domain
        client = gateway().sagemaker(region=domain.region, account=domain.account.access)
        for app in members:
            try:
                answers[app.pk] = client.describe_app(**describe_params(app))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("ResourceNotFound", "ValidationException"):
                    raise
    return store_app_activity(answers, at=timezone.now()) if answers else 0
