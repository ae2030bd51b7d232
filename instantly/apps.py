from django.apps import AppConfig


class InstantlyConfig(AppConfig):
    name = "instantly"
    default_auto_field = "django.db.models.BigAutoField"
