from django.urls import path

from costs import views
from costs.ingest import COST_INGESTION
from portal import run_views

app_name = "costs"

urlpatterns = [
    path("costs/", views.dashboard, name="dashboard"),
    path("costs/budgets/", views.budget_list, name="budget-list"),
    path("costs/budgets/<int:domain_pk>/", views.budget_form, name="budget-form"),
    path("costs/ingest/", views.ingest_start, name="ingest-start"),
    path("costs/tags/check/", views.tag_check_start, name="tag-check"),
    *run_views.run_urls(
        COST_INGESTION.kind,
        "costs/runs",
        "run",
        title="Cost ingestion runs",
        lead="Every read of Cost Explorer: the window it covered, the records it replaced, the requests it made "
        "(AWS bills each one) and what it found.",
        empty_text="No ingestion has run yet. The scheduler reads Cost Explorer every few hours; admins and "
        "finance can start one from the spend page.",
    ),
]
