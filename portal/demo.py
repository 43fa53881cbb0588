"""Demo logins and the hook through which each app adds its own demo data.

An app contributes to the demo by defining ``setup_demo(log)`` in its ``demo`` module; the portal layer discovers it
(as Django discovers ``admin`` modules) so it never imports a higher layer.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction

DEMO_PASSWORD = "sagemaker-demo"  # noqa: S105 - documented demo password, only ever set by the demo command

# username -> (first name, last name, email, is platform admin)
# The emails match the owner tags of the demo organisation's profiles, so the inventory links people to profiles.
DEMO_USERS: dict[str, tuple[str, str, str, bool]] = {
    "admin": ("Ada", "Okafor", "ada.okafor@example.com", True),
    "approver": ("Arjun", "Mehta", "arjun.mehta@example.com", False),
    "finance": ("Fiona", "Walsh", "fiona.walsh@example.com", False),
    "lead": ("Leila", "Haddad", "leila.haddad@example.com", False),
    "scientist": ("Maria", "Garcia", "maria.garcia@example.com", False),
}


@transaction.atomic
def ensure_demo_users() -> list[str]:
    """Create (or reset) the demo logins with the documented password; safe to run on every start."""
    user_model = get_user_model()
    for username, (first, last, email, is_admin) in DEMO_USERS.items():
        user, _ = user_model.objects.get_or_create(username=username)
        user.first_name, user.last_name, user.email = first, last, email
        user.is_staff = user.is_superuser = is_admin
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
    return list(DEMO_USERS)


def setup_app_demos(log: Callable[[str], None]) -> None:
    """Run every installed app's ``demo.setup_demo(log)``, in INSTALLED_APPS order, then each one's optional
    ``demo.finish_demo(log)`` in the same order (for what must see every app's demo data, e.g. posture history)."""
    modules = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.demo"
        if config.name == "portal" or find_spec(module_name) is None:
            continue
        modules.append(import_module(module_name))
    for module in modules:
        setup = getattr(module, "setup_demo", None)
        if setup is not None:
            setup(log)
    for module in modules:
        finish = getattr(module, "finish_demo", None)
        if finish is not None:
            finish(log)
