from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"

    def ready(self) -> None:
        from portal.registry import MenuEntry, Panel, registry
        from profiles import panels, sync, tasks

        del sync  # imported to connect the inventory sync's signal receivers

        registry.add_audit_actions({"profile.person_linked": "Profile linked to a person by an admin"})
        registry.add_urls("profiles.urls")
        registry.add_api_urls("profiles.api.urls")
        registry.add_menu(MenuEntry("Profiles", "profiles:profile-list", order=40))
        registry.add_menu(MenuEntry("Spaces", "profiles:space-list", order=50))
        registry.add_panel(Panel("domain", "profiles/_domain_members_panel.html", panels.domain_members, order=50))
        registry.set_member_sync_task(tasks.sync_domain_members)
