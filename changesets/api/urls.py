from rest_framework.routers import DefaultRouter

from changesets.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("change-sets", views.ChangeSetViewSet, basename="api-change-set")

urlpatterns = router.urls
