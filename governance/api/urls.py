from django.urls import path
from rest_framework.routers import DefaultRouter

from governance.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("findings", views.FindingViewSet, basename="api-finding")

urlpatterns = [
    path("checks/", views.checks, name="api-checks"),
    path("governance/policies/<str:domain_id>/", views.policy, name="api-governance-policy"),
    path("governance/overview/", views.overview, name="api-governance-overview"),
    path("governance/idle-compliance/", views.idle_compliance, name="api-governance-idle-compliance"),
    path("governance/idle-apps/", views.idle_apps, name="api-governance-idle-apps"),
    *router.urls,
]
