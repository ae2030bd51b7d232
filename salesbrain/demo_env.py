"""Secrets for `make run`'s demo, made once into `var/demo.env` (git-ignored).

The demo runs with DEBUG off, as production does: a visitor gets the branded error pages, never
Django's debug pages listing every URL. DEBUG off needs real secrets; they are random per
machine and kept, so sessions and encrypted connection keys survive a restart. The file is
read by make (`VAR ?= value`): anything already set in the environment wins.

Usage: python -m salesbrain.demo_env var/demo.env   (does nothing when the file exists)
"""

from __future__ import annotations

import base64
import secrets
import sys
from pathlib import Path

# The fixed key DEBUG/test runs encrypt with (settings.py); kept as a decrypt-only second key
# so a demo database made before the demo ran with DEBUG off still reads its connection keys.
DEVELOPMENT_ENCRYPTION_KEY = "ZGV2LW9ubHktc2FsZXNicmFpbi1mZXJuZXQta2V5LTA="


def demo_env() -> str:
    fernet_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return (
        "# Made by `python -m salesbrain.demo_env` for the local demo only; delete to renew.\n"
        f"SECRET_KEY ?= {secrets.token_urlsafe(50)}\n"
        f"SECRETS_ENCRYPTION_KEYS ?= {fernet_key},{DEVELOPMENT_ENCRYPTION_KEY}\n"
        f"APP_DB_PASSWORD ?= {secrets.token_urlsafe(24)}\n"
    )


def main(path: str) -> None:
    target = Path(path)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(demo_env())
    target.chmod(0o600)


if __name__ == "__main__":
    main(sys.argv[1])
