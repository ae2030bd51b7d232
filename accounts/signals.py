"""After every `migrate`: grant the application role, store the scope key (a changed SECRET_KEY
takes effect), and give the staff groups their rights."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db import connections

from .db import grant_app_role
from .rls import store_scope_key
from .roles import SB_ADMIN, SB_OPERATOR

# What sb_operator may not touch: users, roles, memberships and connection keys.
OPERATOR_READ_ONLY_MODELS = {
    ("auth", "user"),
    ("auth", "group"),
    ("auth", "permission"),
    ("accounts", "membership"),
    ("accounts", "apitoken"),
    ("instantly", "providerconnection"),
}
OPERATOR_APPS = {"accounts", "instantly", "campaigns", "messaging", "auth"}


def _is_last_app(sender) -> bool:
    """post_migrate is sent once per app; act once, after every app's permissions exist."""
    with_models = [c for c in global_apps.get_app_configs() if c.models_module is not None]
    return sender.label == with_models[-1].label


def grant_app_role_after_migrate(sender, using="default", **kwargs):
    if not _is_last_app(sender):
        return
    with connections[using].cursor() as cursor:
        grant_app_role(cursor)
        store_scope_key(cursor)


def sync_staff_group_permissions(sender, using="default", apps=None, **kwargs):
    """sb_admin gets every permission; sb_operator operates (views everything, edits campaigns,
    mailboxes, messages, webhook events) but manages no users, roles or keys."""
    if not _is_last_app(sender):
        return
    apps = apps or global_apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return
    admin, _ = Group.objects.using(using).get_or_create(name=SB_ADMIN)
    operator, _ = Group.objects.using(using).get_or_create(name=SB_OPERATOR)
    perms = list(Permission.objects.using(using).select_related("content_type"))
    admin.permissions.set(perms)
    operator_perms = []
    for perm in perms:
        key = (perm.content_type.app_label, perm.content_type.model)
        if key[0] not in OPERATOR_APPS:
            continue
        if key in OPERATOR_READ_ONLY_MODELS and not perm.codename.startswith("view_"):
            continue
        if key == ("accounts", "organization") and perm.codename.startswith("delete_"):
            continue
        operator_perms.append(perm)
    operator.permissions.set(operator_perms)
