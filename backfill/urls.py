from django.urls import path

from backfill import views
from backfill.discovery import BACKFILL_DISCOVERY
from backfill.wizard import BACKFILL_APPLY
from portal import run_views

app_name = "backfill"

urlpatterns = [
    path("backfill/", views.coverage_page, name="coverage"),
    path("backfill/domains/<int:pk>/", views.domain_coverage_page, name="domain-coverage"),
    path("backfill/discover/", views.discover, name="discover"),
    path("backfill/resources/", views.ResourceListView.as_view(), name="resource-list"),
    path("backfill/resources/<int:pk>/", views.resource_detail, name="resource-detail"),
    path("backfill/rules/", views.rules_page, name="rules"),
    path("backfill/rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
    path("backfill/plans/", views.plan_list, name="plan-list"),
    path("backfill/plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("backfill/plans/<int:pk>/<str:action>/", views.plan_action, name="plan-action"),
    path("backfill/cost-tags/", views.cost_tag_backfills, name="cost-tag-backfills"),
    path("backfill/cost-tags/<int:pk>/<str:action>/", views.cost_tag_backfill_action, name="cost-tag-backfill-action"),
    *run_views.run_urls(
        BACKFILL_APPLY.kind,
        "backfill/applied",
        "apply",
        title="Tag backfill runs",
        lead="Each application of an approved backfill plan: the resources tagged, the conflicts left, the calls made.",
        empty_text="No backfill plan has been applied yet.",
    ),
    *run_views.run_urls(
        BACKFILL_DISCOVERY.kind,
        "backfill/runs",
        "run",
        title="Legacy resource discoveries",
        lead="Each discovery of the SageMaker resources in every account and region, and what it found.",
        empty_text="No discovery has run yet: start one on the Tag backfill page, or run manage.py discover_legacy.",
    ),
]
