"""Webhook URLs, mounted under `webhooks/instantly/` by `salesbrain.urls`."""

from django.urls import path

from .views import instantly_webhook

app_name = "instantly_webhooks"

urlpatterns = [
    path("webhook", instantly_webhook, name="receive"),
]
