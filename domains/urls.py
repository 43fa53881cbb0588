from django.urls import path

from domains import views
from portal import run_views
from portal.models import TaskRun

SYNC = TaskRun.Kind.INVENTORY_SYNC

app_name = "domains"

urlpatterns = [
    path("accounts/", views.AccountListView.as_view(), name="account-list"),
    path("accounts/add/", views.account_form, name="account-add"),
    path("accounts/<int:pk>/edit/", views.account_form, name="account-edit"),
    path("accounts/<int:pk>/verify/", views.account_verify, name="account-verify"),
    path("domains/", views.DomainListView.as_view(), name="domain-list"),
    path("domains/<int:pk>/", views.domain_detail, name="domain-detail"),
    path("sync/", views.sync_start, name="sync-start"),
    path("sync-runs/", run_views.RunListView.as_view(
        kind=SYNC, title="Inventory sync runs",
        lead="Every sync: who or what started it, how long it took, what changed, the AWS calls it made and the "
             "errors it met.",
        empty_text="No sync has run yet. Start one with Sync now on the Domains page; the scheduler also runs one "
                   "regularly."), name="syncrun-list"),
    path("sync-runs/<int:pk>/", run_views.run_detail, {"kind": SYNC}, name="syncrun-detail"),
    path("sync-runs/<int:pk>/progress/", run_views.run_progress, {"kind": SYNC}, name="syncrun-progress"),
]
