"""Django's admin on the portal's audited site (its own module: ``portal.apps`` may hold one AppConfig only)."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """``django.contrib.admin``, on a site that audits every write made through it (:mod:`portal.admin_audit`)."""

    default_site = "portal.admin_audit.AuditedAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscover: every app's admin module has registered its models and actions
        from django.contrib import admin

        from portal.admin_audit import audit_actions_of
        from portal.registry import registry

        registry.add_audit_actions(audit_actions_of(admin.site))
