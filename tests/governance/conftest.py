from __future__ import annotations

from tests.onboarding.conftest import eager_tasks, world  # noqa: F401 - the small onboarding organisation
