from django.urls import path

from domains import people_views, roles, sso_groups, views
from domains.people import DIRECTORY_SYNC
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
    path("people/", people_views.PersonListView.as_view(), name="person-list"),
    path("people/<int:pk>/", people_views.person_detail, name="person-detail"),
    path("people/matches/", people_views.PersonMatchListView.as_view(), name="person-match-list"),
    path("people/matches/<int:pk>/resolve/", people_views.person_match_resolve, name="person-match-resolve"),
    path("people/sync/", people_views.directory_sync_start, name="directory-sync-start"),
    *run_views.run_urls(
        DIRECTORY_SYNC.kind,
        "people/sync-runs",
        "dirrun",
        title="Directory sync runs",
        lead="Every sync of the people directory: Identity Center users and groups read, people matched, who left.",
        empty_text="No directory sync has run yet. Start one with Sync directory on the People page; the scheduler "
        "also runs one every hour.",
    ),
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
