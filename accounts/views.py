"""Login, logout and switching between the organizations a user belongs to."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .tenant_resolution import SESSION_ORG_KEY


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot log anyone out."""


@login_required
@require_POST
def switch_organization(request):
    """Make another of the user's organizations the current one (404 if not a member)."""
    org_id = request.POST.get("organization_id", "")
    if not any(str(m.organization_id) == org_id for m in request.memberships):
        raise Http404("No such organization")
    request.session[SESSION_ORG_KEY] = org_id
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = "/"
    return redirect(target)
