"""Template context: the organization the page acts for and the ones the user can switch to."""


def tenant(request):
    return {
        "current_organization": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": getattr(request, "memberships", []),
        "is_agency_staff": getattr(request, "is_agency_staff", False),
    }
