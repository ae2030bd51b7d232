from django.apps import AppConfig


class InstantlyConfig(AppConfig):
    name = "instantly"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Hooks into lower layers, which never import this one. (Imported here: an AppConfig
        # module must not import models before the registry is ready.)
        from . import actions, alert_delivery, assignment, blocklist, monitoring

        actions.register()
        # The customer's mailboxes page says whether the agency is on a failing mailbox.
        alert_delivery.register()
        assignment.register()
        # Backlog and connection gauges at every scrape; processing lag in readiness.
        monitoring.register()
        blocklist.register()
