from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Hooks into the campaigns layer, which never imports this one. (Imported here, not at
        # the top: an AppConfig module must not import models before the registry is ready.)
        from . import assignment, step_counts

        assignment.register()
        step_counts.register()
