"""The live feed: the page and its Server-Sent Events stream."""

from django.urls import path

from . import feed_views as views

app_name = "feed"

urlpatterns = [
    path("feed/", views.feed_page, name="page"),
    path("feed/stream/", views.feed_stream, name="stream"),
]
