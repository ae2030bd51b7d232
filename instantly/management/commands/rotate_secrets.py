"""`manage.py rotate_secrets`: re-encrypt every stored secret with the current first key.

Key rotation: put a new Fernet key first in SECRETS_ENCRYPTION_KEYS (keep the old ones after
it), run this, then remove the old keys. Secrets themselves do not change (webhook
subscriptions and API keys keep working); only their encryption does.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError

from accounts.tenancy import staff_scope
from instantly.models import ProviderConnection
from salesbrain.encryption import rotate

SECRET_COLUMNS = ("api_key_encrypted", "api_key_v1_encrypted", "webhook_secret_encrypted")


class Command(BaseCommand):
    help = "Re-encrypt connection secrets with the first key of SECRETS_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        # One transaction: either every secret is re-encrypted or none is.
        try:
            rotated = self._rotate_all()
        except InvalidToken:
            raise CommandError(
                "A stored secret cannot be decrypted with any key in SECRETS_ENCRYPTION_KEYS: "
                "keep the old key in the list (after the new one) until rotation has run."
            )
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {rotated} secret(s)."))

    def _rotate_all(self) -> int:
        rotated = 0
        with staff_scope():
            for connection in ProviderConnection.objects.unscoped().select_for_update():
                for column in SECRET_COLUMNS:
                    token = getattr(connection, column)
                    if token:
                        setattr(connection, column, rotate(token))
                        rotated += 1
                connection.save(update_fields=[*SECRET_COLUMNS, "updated_at"])
        return rotated
