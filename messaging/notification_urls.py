"""Notifications: the page, read state, email and Slack settings, the signed unsubscribe."""

from django.urls import path

from . import notification_views as views
from . import preference_views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/<int:pk>/read/", views.notification_read, name="read"),
    path("notifications/read-all/", views.notification_read_all, name="read-all"),
    path("notifications/settings/", preference_views.notification_settings, name="settings"),
    path("notifications/settings/slack/", preference_views.slack_settings, name="slack"),
    path(
        "notifications/unsubscribe/<str:token>/", preference_views.unsubscribe, name="unsubscribe"
    ),
]
