from django.urls import path

from domains import views

app_name = "domains"

urlpatterns = [
    path("accounts/", views.AccountListView.as_view(), name="account-list"),
    path("accounts/add/", views.account_form, name="account-add"),
    path("accounts/<int:pk>/edit/", views.account_form, name="account-edit"),
    path("accounts/<int:pk>/verify/", views.account_verify, name="account-verify"),
    path("domains/", views.DomainListView.as_view(), name="domain-list"),
    path("domains/<int:pk>/", views.domain_detail, name="domain-detail"),
    path("sync/", views.sync_start, name="sync-start"),
    path("sync-runs/", views.SyncRunListView.as_view(), name="syncrun-list"),
    path("sync-runs/<int:pk>/", views.syncrun_detail, name="syncrun-detail"),
    path("sync-runs/<int:pk>/progress/", views.syncrun_progress, name="syncrun-progress"),
]
