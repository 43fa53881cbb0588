from django.urls import path

from onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("requests/", views.inbox, name="inbox"),
    path("requests/profiles/", views.ProfileRequestListView.as_view(), name="profile-request-list"),
    path("requests/profiles/new/", views.profile_request_new, name="profile-request-new"),
    path("requests/profiles/<int:pk>/", views.request_detail, {"kind": "profile"}, name="profile-request-detail"),
    path(
        "requests/profiles/<int:pk>/status/",
        views.request_progress,
        {"kind": "profile"},
        name="profile-request-progress",
    ),
    path(
        "requests/profiles/<int:pk>/<str:action>/",
        views.request_action,
        {"kind": "profile"},
        name="profile-request-action",
    ),
    path("requests/spaces/", views.SpaceRequestListView.as_view(), name="space-request-list"),
    path("requests/spaces/new/", views.space_request_new, name="space-request-new"),
    path("requests/spaces/estimate/", views.space_estimate, name="space-estimate"),
    path("requests/spaces/<int:pk>/", views.request_detail, {"kind": "space"}, name="space-request-detail"),
    path("requests/spaces/<int:pk>/status/", views.request_progress, {"kind": "space"}, name="space-request-progress"),
    path(
        "requests/spaces/<int:pk>/<str:action>/", views.request_action, {"kind": "space"}, name="space-request-action"
    ),
    path("requests/personas/", views.PersonaTemplateListView.as_view(), name="persona-list"),
    path("requests/personas/new/", views.persona_form, name="persona-new"),
    path("requests/personas/<int:pk>/", views.persona_form, name="persona-edit"),
    path("requests/space-policies/<int:domain_pk>/", views.space_policy_form, name="space-policy"),
    path("offboarding/", views.OffboardingListView.as_view(), name="offboarding-list"),
    path("offboarding/new/", views.offboarding_new, name="offboarding-new"),
    path("offboarding/<int:pk>/", views.offboarding_detail, name="offboarding-detail"),
    path("offboarding/<int:pk>/status/", views.offboarding_progress, name="offboarding-progress"),
    path("offboarding/<int:pk>/<str:action>/", views.offboarding_action, name="offboarding-action"),
]
