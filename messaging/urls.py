"""The unified inbox of the current organization."""

from django.urls import path

from . import settings_views, views

app_name = "inbox"

urlpatterns = [
    path("inbox/", views.inbox, name="list"),
    path("inbox/<int:pk>/", views.thread_detail, name="thread"),
    path("inbox/<int:pk>/read/", views.mark_read, name="mark-read"),
    path("inbox/<int:pk>/unread/", views.mark_unread, name="mark-unread"),
    path("inbox/<int:pk>/done/", views.mark_done, name="done"),
    path("inbox/<int:pk>/reply/", views.reply, name="reply"),
    path("inbox/messages/<int:pk>/category/", views.correct_category, name="correct-category"),
    path("settings/replies/", settings_views.reply_settings, name="settings"),
]
