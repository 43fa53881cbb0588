from django.urls import path

from costs import views

app_name = "costs"

urlpatterns = [
    path("costs/", views.dashboard, name="dashboard"),
    path("costs/budgets/", views.budget_list, name="budget-list"),
    path("costs/budgets/<int:domain_pk>/", views.budget_form, name="budget-form"),
]
