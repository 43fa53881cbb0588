from rest_framework.routers import DefaultRouter

from profiles.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("profiles", views.UserProfileViewSet, basename="api-profile")
router.register("spaces", views.SpaceViewSet, basename="api-space")
router.register("apps", views.AppViewSet, basename="api-app")

urlpatterns = router.urls
