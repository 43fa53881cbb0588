from django.urls import path

from domains import roles, sso_groups, views
from domains.sync import INVENTORY_SYNC
from portal import run_views

app_name = "domains"

urlpatterns = [
    path("accounts/", views.AccountListView.as_view(), name="account-list"),
    path("accounts/add/", views.account_form, name="account-add"),
    path("accounts/<int:pk>/edit/", views.account_form, name="account-edit"),
    path("accounts/<int:pk>/verify/", views.account_verify, name="account-verify"),
    path("domains/", views.DomainListView.as_view(), name="domain-list"),
    path("domains/<int:pk>/", views.domain_detail, name="domain-detail"),
    path("sync/", views.sync_start, name="sync-start"),
    path("roles/", roles.RoleListView.as_view(), name="role-list"),
    path("roles/<int:pk>/revoke/", roles.role_revoke, name="role-revoke"),
    path("sso-groups/", sso_groups.MappingListView.as_view(), name="sso-group-list"),
    path("sso-groups/<int:pk>/", sso_groups.mapping_edit, name="sso-group-edit"),
    path("sso-groups/<int:pk>/delete/", sso_groups.mapping_delete, name="sso-group-delete"),
    *run_views.run_urls(
        INVENTORY_SYNC.kind,
        "sync-runs",
        "syncrun",
        title="Inventory sync runs",
        lead="Every sync: who or what started it, how long it took, what changed, the AWS calls it made and the "
        "errors it met.",
        empty_text="No sync has run yet. Start one with Sync now on the Domains page; the scheduler also runs one "
        "regularly.",
    ),
]
