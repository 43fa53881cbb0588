from django.urls import path

from backfill import views
from backfill.discovery import BACKFILL_DISCOVERY
from portal import run_views

app_name = "backfill"

urlpatterns = [
    path("backfill/", views.coverage_page, name="coverage"),
    path("backfill/discover/", views.discover, name="discover"),
    path("backfill/resources/", views.ResourceListView.as_view(), name="resource-list"),
    path("backfill/resources/<int:pk>/", views.resource_detail, name="resource-detail"),
    path("backfill/rules/", views.rules_page, name="rules"),
    path("backfill/rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
    *run_views.run_urls(
        BACKFILL_DISCOVERY.kind,
        "backfill/runs",
        "run",
        title="Legacy resource discoveries",
        lead="Each discovery of the SageMaker resources in every account and region, and what it found.",
        empty_text="No discovery has run yet: start one on the Tag backfill page, or run manage.py discover_legacy.",
    ),
]
