"""One error format for every 4xx and 5xx, from DRF views and from Django alike."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import IntegrityError
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from salesbrain.api import errors
from testkit import persona_client

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_401_without_credentials_names_the_scheme():
    response = APIClient().get("/api/v1/campaigns/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_401_for_a_revoked_token(request):
    assert_error(
        persona_client(request, "revoked").get("/api/v1/me/"), 401, "authentication_failed"
    )


def test_403_for_a_customer_on_a_staff_endpoint(request):
    error = assert_error(
        persona_client(request, "alice").get("/api/v1/organizations/"), 403, "permission_denied"
    )
    assert "staff" in error["message"]


def test_403_for_a_user_without_organization(request):
    assert_error(
        persona_client(request, "charlie").get("/api/v1/campaigns/"), 403, "permission_denied"
    )


def test_404_for_another_organizations_row(request, tenant_rows):
    campaign = tenant_rows["b"]["campaign"]
    response = persona_client(request, "alice").get(f"/api/v1/campaigns/{campaign.pk}/")
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing/", "/api/", "/api/v2/campaigns/", "/api/v1/campaigns/not-a-uuid/"]
)
def test_404_for_unknown_api_paths_is_json(request, path):
    assert_error(persona_client(request, "alice").get(path), 404, "not_found")


def test_404_hints_at_the_missing_slash(request):
    error = assert_error(
        persona_client(request, "alice").get("/api/v1/campaigns"), 404, "not_found"
    )
    assert error["details"] == {"did_you_mean": "/api/v1/campaigns/"}


def test_pages_outside_the_api_keep_html_errors():
    response = Client().get("/definitely-not-a-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_405_lists_the_allowed_methods(request):
    error = assert_error(
        persona_client(request, "alice").delete("/api/v1/me/"), 405, "method_not_allowed"
    )
    assert "GET" in error["details"]["allowed"]


def test_400_validation_maps_fields_to_messages(request):
    error = assert_error(
        persona_client(request, "alice").post("/api/v1/tokens/", {}, format="json"), 400, "invalid"
    )
    assert error["details"] == {"name": ["This field is required."]}


def test_400_for_malformed_json(request):
    response = persona_client(request, "alice").post(
        "/api/v1/tokens/", data="{not json", content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_415_for_a_form_body(request):
    response = persona_client(request, "alice").post(
        "/api/v1/tokens/", {"name": "x"}, format="multipart"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_409_conflict_carries_the_constraint(request, org_a):
    response = persona_client(request, "adam").post(
        "/api/v1/organizations/", {"name": "Again", "slug": org_a.slug}, format="json"
    )
    error = assert_error(response, 409, "conflict")
    assert error["details"]["constraint"].startswith("accounts_organization_slug")


def test_an_error_rolls_back_what_the_request_wrote(request, alice):
    """A 4xx answer writes nothing, even if the view wrote before failing."""
    from accounts.api import ApiTokenViewSet
    from accounts.api_tokens import ApiToken

    client = persona_client(request, "alice")
    before = ApiToken.objects.count()
    original = ApiTokenViewSet.create

    def create_then_fail(self, request, *args, **kwargs):
        original(self, request, *args, **kwargs)
        raise IntegrityError("boom")  # not a unique violation: a 500

    with mock.patch.object(ApiTokenViewSet, "create", create_then_fail):
        response = APIClient(raise_request_exception=False)
        response.credentials(**client._credentials)
        answer = response.post("/api/v1/tokens/", {"name": "x"}, format="json")
    assert_error(answer, 500, "server_error")
    assert ApiToken.objects.count() == before


def test_unexpected_errors_are_500_in_the_format_and_reported(request):
    client = persona_client(request, "alice")
    client.raise_request_exception = False
    with mock.patch("accounts.api.MeView.get", side_effect=RuntimeError("bug")):
        assert_error(client.get("/api/v1/me/"), 500, "server_error")
    client.raise_request_exception = True
    with mock.patch("accounts.api.MeView.get", side_effect=RuntimeError("bug")):
        with pytest.raises(RuntimeError):  # Django's listeners (the test client here) hear of it
            client.get("/api/v1/me/")


def test_django_error_views_answer_json_under_api_only():
    factory = RequestFactory()
    api, page = factory.get("/api/v1/x"), factory.get("/x")
    for view, status in (
        (errors.bad_request, 400),
        (errors.permission_denied, 403),
        (errors.page_not_found, 404),
    ):
        assert view(api, Exception()).status_code == status
        assert view(api, Exception())["Content-Type"] == "application/json"
        assert view(page, Exception())["Content-Type"].startswith("text/html")
    assert errors.server_error(api).status_code == 500
    assert errors.server_error(api)["Content-Type"] == "application/json"
    assert errors.server_error(page)["Content-Type"].startswith("text/html")
