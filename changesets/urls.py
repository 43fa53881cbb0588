from django.urls import path

from changesets import views

app_name = "changesets"

urlpatterns = [
    path("change-sets/", views.ChangeSetListView.as_view(), name="list"),
    path("change-sets/<int:pk>/", views.detail, name="detail"),
    path("change-sets/<int:pk>/status/", views.progress, name="progress"),
    path("change-sets/<int:pk>/<str:action>/", views.change_set_action, name="action"),
    path("change-sets/edit/<str:kind>/<int:pk>/", views.edit_settings, name="edit"),
]
