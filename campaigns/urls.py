"""The customer portal: dashboard, campaigns, leads and mailboxes of the current organization."""

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/<uuid:pk>/", views.campaign_detail, name="campaign"),
    path("leads/", views.lead_list, name="leads"),
    path("leads/export.csv", views.lead_export, name="leads-export"),
    path("leads/<int:pk>/", views.lead_detail, name="lead"),
    path("leads/<int:pk>/interest/", views.lead_interest, name="lead-interest"),
    path("mailboxes/", views.mailbox_list, name="mailboxes"),
]
