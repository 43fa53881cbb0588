from django.urls import path

from governance import views
from governance.engine import POSTURE_CHECK
from portal import run_views

app_name = "governance"

urlpatterns = [
    path("governance/", views.overview, name="overview"),
    path("governance/idle/", views.idle_compliance, name="idle"),
    path("governance/findings/", views.FindingListView.as_view(), name="finding-list"),
    path("governance/findings/<int:pk>/", views.finding_detail, name="finding-detail"),
    path("governance/fix/", views.fix, name="fix"),
    path("governance/policies/<int:domain_pk>/", views.policy_form, name="policy"),
    *run_views.run_urls(
        POSTURE_CHECK.kind,
        "governance/runs",
        "run",
        title="Posture checks",
        lead="Every evaluation of the governance checks: which domains, what opened and what resolved.",
        empty_text="No posture check has run yet; the scheduler runs one regularly, or run manage.py check_posture.",
    ),
]
