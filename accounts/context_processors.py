"""Template context: the organization the page acts for and the ones the user can switch to.

(The inbox's unread count comes from `messaging.context_processors`, the layer that owns it.)"""

from __future__ import annotations

from .models import Organization


class Memo:
    """A zero-argument callable the templates call only if they use it, at most once."""

    def __init__(self, compute):
        self._compute = compute
        self._done = False
        self._value = None

    def __call__(self):
        if not self._done:
            self._value, self._done = self._compute(), True
        return self._value


def _switchable(request):
    """Staff may view any organization; members switch between their own."""
    if getattr(request, "is_agency_staff", False):
        return list(Organization.objects.order_by("name").only("id", "name"))
    return [m.organization for m in getattr(request, "memberships", [])]


def tenant(request):
    return {
        "current_organization": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": getattr(request, "memberships", []),
        "is_agency_staff": getattr(request, "is_agency_staff", False),
        "switchable_organizations": Memo(lambda: _switchable(request)),
    }
