"""The one base viewset: every API viewset goes through it, it cannot be bypassed by overriding
`get_queryset`, and it fails closed outside a tenant scope."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory, force_authenticate

from campaigns.api import CampaignViewSet
from campaigns.models import Campaign
from salesbrain.api.urls import router
from salesbrain.api.viewsets import ScopedViewSet


def test_every_router_viewset_is_scoped():
    for prefix, viewset, _basename in router.registry:
        assert issubclass(viewset, ScopedViewSet), prefix


@pytest.mark.parametrize("attribute", ["get_queryset", "queryset"])
def test_a_subclass_cannot_take_over_the_queryset(attribute):
    with pytest.raises(TypeError, match="get_scoped_queryset"):
        type("Leaky", (ScopedViewSet,), {"model": Campaign, attribute: lambda self: None})


@pytest.mark.django_db
def test_outside_a_tenant_scope_the_viewset_fails_closed(tenant_rows, alice, caplog):
    """Reached without the tenant middleware (no scope): a 500, never every row."""
    request = APIRequestFactory().get("/api/v1/campaigns/")
    force_authenticate(request, user=alice)
    request.is_agency_staff = True  # even a request claiming staff gets nothing unscoped
    view = CampaignViewSet.as_view({"get": "list"}, permission_classes=[])
    response = view(request)
    assert response.status_code == 500
    assert response.data == {
        "error": {"code": "server_error", "message": "Internal server error.", "details": None}
    }
    assert "TenantNotSet" in caplog.text
