"""Login, logout and switching between the organizations a user belongs to."""

from __future__ import annotations

import uuid

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .models import Organization
from .tenant_resolution import SESSION_ORG_KEY


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot log anyone out."""


@login_required
@require_POST
def switch_organization(request):
    """Make another organization the current one.

    Members may pick one of their own organizations (any other answers 404). Agency staff may
    pick any organization to view the portal as, or none (an empty choice) to stop.
    """
    org_id = request.POST.get("organization_id", "")
    if request.is_agency_staff and org_id == "":
        request.session.pop(SESSION_ORG_KEY, None)
        return _redirect_back(request)
    if request.is_agency_staff:
        try:
            known = Organization.objects.filter(pk=uuid.UUID(org_id)).exists()
        except ValueError:
            known = False
    else:
        known = any(str(m.organization_id) == org_id for m in request.memberships)
    if not known:
        raise Http404("No such organization")
    request.session[SESSION_ORG_KEY] = org_id
    return _redirect_back(request)


def _redirect_back(request):
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)
