from django.urls import path

from profiles import views

app_name = "profiles"

urlpatterns = [
    path("profiles/", views.ProfileListView.as_view(), name="profile-list"),
    path("profiles/<int:pk>/", views.profile_detail, name="profile-detail"),
    path("profiles/<int:pk>/link-person/", views.link_person, name="link-person"),
    path("profiles/<int:pk>/open-studio/", views.open_studio, name="open-studio"),
    path("spaces/", views.SpaceListView.as_view(), name="space-list"),
    path("spaces/<int:pk>/", views.space_detail, name="space-detail"),
    path("apps/", views.AppListView.as_view(), name="app-list"),
]
