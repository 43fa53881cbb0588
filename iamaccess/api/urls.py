from rest_framework.routers import DefaultRouter

from iamaccess.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("execution-roles", views.ExecutionRoleViewSet, basename="api-executionrole")
router.register("isolation-rollouts", views.IsolationRolloutViewSet, basename="api-isolation-rollout")
router.register("iam-reviews", views.IamReviewViewSet, basename="api-iamreview")

urlpatterns = router.urls
