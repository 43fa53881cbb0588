from django.urls import path

from iamaccess import views
from iamaccess.review import IAM_REVIEW
from portal import run_views

app_name = "iamaccess"

urlpatterns = [
    path("execution-roles/", views.ExecutionRoleListView.as_view(), name="role-list"),
    path("execution-roles/<int:pk>/", views.role_detail, name="role-detail"),
    path("execution-roles/<int:pk>/policy/", views.role_policy, name="role-policy"),
    path("execution-roles/isolation/<int:pk>/", views.isolation_rollout, name="isolation-rollout"),
    path("execution-roles/review/", views.review_start, name="review-start"),
    *run_views.run_urls(
        IAM_REVIEW.kind,
        "execution-roles/reviews",
        "review",
        title="IAM reviews",
        lead="Every review of the execution roles: the roles read, the probes simulated, the findings it opened.",
        empty_text="No IAM review has run yet; the scheduler runs one daily, or run manage.py review_iam.",
    ),
]
