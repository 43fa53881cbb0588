from rest_framework.routers import DefaultRouter

from onboarding.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("profile-requests", views.ProfileRequestViewSet, basename="api-profile-request")
router.register("space-requests", views.SpaceRequestViewSet, basename="api-space-request")
router.register("personas", views.PersonaTemplateViewSet, basename="api-persona")
router.register("space-policies", views.SpacePolicyViewSet, basename="api-space-policy")
router.register("offboarding-proposals", views.ProposedLeaverViewSet, basename="api-offboarding-proposal")
router.register("offboardings", views.OffboardingViewSet, basename="api-offboarding")

urlpatterns = router.urls
