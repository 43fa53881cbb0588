from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"

    def ready(self) -> None:
        from profiles import sync  # noqa: F401 - connects the inventory sync's signal receivers
