from rest_framework.routers import DefaultRouter

from domains.api import views
from domains.roles import RoleAssignmentViewSet
from domains.sso_groups import GroupRoleMappingViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("accounts", views.AwsAccountViewSet, basename="api-account")
router.register("domains", views.DomainViewSet, basename="api-domain")
router.register("sync-runs", views.SyncRunViewSet, basename="api-syncrun")
router.register("roles", RoleAssignmentViewSet, basename="api-role")
router.register("sso/group-mappings", GroupRoleMappingViewSet, basename="api-sso-group-mapping")
router.register("people/matches", views.PersonMatchViewSet, basename="api-person-match")
router.register("people/sync-runs", views.DirectorySyncRunViewSet, basename="api-dirrun")
router.register("people", views.PersonViewSet, basename="api-person")

urlpatterns = router.urls
