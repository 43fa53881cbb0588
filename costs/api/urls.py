from django.urls import path
from rest_framework.routers import DefaultRouter

from costs.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("costs/rollups", views.SpendRollupViewSet, basename="api-rollup")
router.register("costs/budgets", views.BudgetViewSet, basename="api-budget")
router.register("costs/runs", views.CostRunViewSet, basename="api-costrun")

urlpatterns = [path("costs/summary/", views.spend_summary, name="api-spend-summary"), *router.urls]
