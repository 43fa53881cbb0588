from django.urls import path
from rest_framework.routers import DefaultRouter

from backfill.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("backfill/resources", views.LegacyResourceViewSet, basename="api-backfill-resource")
router.register("backfill/rules", views.AttributionRuleViewSet, basename="api-backfill-rule")
router.register("backfill/plans", views.BackfillPlanViewSet, basename="api-backfill-plan")
router.register("cost-tag-backfills", views.CostTagBackfillViewSet, basename="api-cost-tag-backfill")

urlpatterns = [
    path("backfill/coverage/", views.coverage, name="api-backfill-coverage"),
    path("backfill/discover/", views.discover, name="api-backfill-discover"),
    *router.urls,
]
