"""Django's admin on the portal's audited site (its own module: ``portal.apps`` may hold one AppConfig only)."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """``django.contrib.admin``, on a site that audits every write made through it (:mod:`portal.admin_audit`)."""

    default_site = "portal.admin_audit.AuditedAdminSite"
