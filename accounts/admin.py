"""Operator console: organizations, memberships, users and API tokens, and the site titles.

What each staff group may do here is decided by the permissions `accounts.signals` gives the
groups: sb_operator views users, groups and memberships but cannot change them; sb_admin can do
everything. The admin asks those permissions; nothing here grants more.
"""

from __future__ import annotations

import django.contrib.auth.admin  # noqa: F401 - registers User first, so it can be replaced below
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils import timezone

from .admin_display import badge
from .api_tokens import ApiToken
from .models import Membership, Organization
from .roles import SB_ADMIN, STAFF_GROUPS

admin.site.site_header = "Salesbrain operator console"
admin.site.site_title = "Salesbrain operator console"
admin.site.index_title = "Operations"

User = get_user_model()


class OrganizationMembershipInline(admin.TabularInline):
    """Who belongs to the organization; read-only for sb_operator (no membership rights)."""

    model = Membership
    fk_name = "organization"
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class UserMembershipInline(admin.TabularInline):
    """The organizations a user belongs to, on the user's page."""

    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["organization"]
    fields = ["organization", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Organizations with their member count; `campaigns.admin` re-registers a subclass that
    adds the campaign count (this layer knows nothing of campaigns)."""

    list_display = ["name", "slug", "member_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"
    inlines = [OrganizationMembershipInline]

    def get_queryset(self, request):
        # Counted in the changelist query itself, not once per row.
        return (
            super()
            .get_queryset(request)
            .annotate(_member_count=Count("memberships", distinct=True))
        )

    @admin.display(description="Members", ordering="_member_count")
    def member_count(self, obj):
        return obj._member_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]
    readonly_fields = ["created_at"]


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin plus the user's staff role and organizations."""

    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "staff_role",
        "organizations",
        "is_active",
        "last_login",
    ]
    list_filter = ["groups", "is_active", "is_staff", "is_superuser"]
    inlines = [UserMembershipInline]

    def get_inlines(self, request, obj):
        # The add page is Django's two-step username/password form: memberships come after.
        return self.inlines if obj is not None else []

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups", "memberships__organization")

    @admin.display(description="Staff role")
    def staff_role(self, obj):
        if obj.is_superuser:
            return badge("superuser", "bad")
        names = sorted(g.name for g in obj.groups.all() if g.name in STAFF_GROUPS)
        if not names:
            return "-"
        return badge(", ".join(names), "warn" if SB_ADMIN in names else "good")

    @admin.display(description="Organizations")
    def organizations(self, obj):
        memberships = obj.memberships.all()
        return ", ".join(f"{m.organization} ({m.role})" for m in memberships) or "-"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Personal API tokens: who has one, when it was used, and a way to revoke it.

    A token's key is shown once to its owner when issued (through the API); only its digest is
    stored, so there is nothing secret to show here and no way to create one from the console.
    """

    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "state"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    list_select_related = ["user"]
    fields = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    date_hierarchy = "created_at"
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="State")
    def state(self, obj):
        if obj.revoked_at:
            return badge("revoked", "idle")
        if obj.expires_at and obj.expires_at <= timezone.now():
            return badge("expired", "warn")
        return badge("active", "good")

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        # Already-revoked tokens keep their first revocation time (as ApiToken.revoke does).
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)
