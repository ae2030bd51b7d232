from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import auth_cache, sessions, signals

        user_logged_in.connect(sessions.mark_fresh, dispatch_uid="sb_session_fresh")
        auth_cache.connect_invalidation()

        # Last app to migrate is unknown: run after every app, the handler is idempotent.
        post_migrate.connect(signals.grant_app_role_after_migrate, dispatch_uid="sb_grant")
        post_migrate.connect(signals.sync_staff_group_permissions, dispatch_uid="sb_groups")
