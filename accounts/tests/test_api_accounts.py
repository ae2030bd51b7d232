"""Organizations and memberships (staff; sb_admin writes) and `me`, for every persona."""

from __future__ import annotations

import pytest

from accounts.models import Membership, Organization
from accounts.roles import MemberRole
from testkit import PERSONAS, expected_status, persona_client, results

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", PERSONAS)
def test_staff_only_reads(request, org_a, org_b, persona):
    client = persona_client(request, persona)
    membership = Membership.objects.filter(organization=org_a).first()
    for url in (
        "/api/v1/organizations/",
        f"/api/v1/organizations/{org_b.pk}/",
        "/api/v1/memberships/",
        f"/api/v1/memberships/{membership.pk}/" if membership else "/api/v1/memberships/",
    ):
        response = client.get(url)
        assert response.status_code == expected_status(persona, staff_only=True), url


def test_staff_list_every_organization_with_member_counts(request, alice, victor, bob):
    body = persona_client(request, "olga").get("/api/v1/organizations/").json()
    counts = {row["slug"]: row["member_count"] for row in body["results"]}
    assert counts == {"acme": 2, "bluebird": 1}


@pytest.mark.parametrize("persona,status", [("adam", 201), ("olga", 403), ("alice", 403)])
def test_only_sb_admin_creates_organizations(request, persona, status):
    response = persona_client(request, persona).post(
        "/api/v1/organizations/", {"name": "Cobalt", "slug": "cobalt"}, format="json"
    )
    assert response.status_code == status
    assert Organization.objects.filter(slug="cobalt").exists() is (status == 201)


def test_duplicate_slug_is_a_409_and_the_request_changes_nothing(request, org_a):
    client = persona_client(request, "adam")
    response = client.post(
        "/api/v1/organizations/", {"name": "Copy", "slug": org_a.slug}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["details"]["constraint"]
    # The request's transaction was rolled back cleanly: the next one works.
    assert client.get("/api/v1/organizations/").status_code == 200
    assert Organization.objects.filter(name="Copy").count() == 0


def test_organizations_cannot_be_deleted_through_the_api(request, org_a):
    response = persona_client(request, "adam").delete(f"/api/v1/organizations/{org_a.pk}/")
    assert response.status_code == 405


def test_sb_admin_manages_memberships(request, org_a, charlie):
    client = persona_client(request, "adam")
    created = client.post(
        "/api/v1/memberships/",
        {"user": charlie.pk, "organization": str(org_a.pk), "role": "viewer"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["username"] == "charlie"
    again = client.post(
        "/api/v1/memberships/",
        {"user": charlie.pk, "organization": str(org_a.pk), "role": "member"},
        format="json",
    )
    assert again.status_code == 409
    pk = created.json()["id"]
    promoted = client.patch(f"/api/v1/memberships/{pk}/", {"role": "admin"}, format="json")
    assert promoted.json()["role"] == MemberRole.ADMIN
    assert client.delete(f"/api/v1/memberships/{pk}/").status_code == 204
    assert not Membership.objects.filter(pk=pk).exists()


def test_operator_cannot_change_roles(request, alice):
    membership = Membership.objects.get(user=alice)
    response = persona_client(request, "olga").patch(
        f"/api/v1/memberships/{membership.pk}/", {"role": "viewer"}, format="json"
    )
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == MemberRole.OWNER


def test_membership_filters(request, alice, victor, bob, org_a):
    client = persona_client(request, "olga")
    rows = results(client.get("/api/v1/memberships/", {"organization": org_a.pk}))
    assert {row["username"] for row in rows} == {"alice", "victor"}
    rows = results(client.get("/api/v1/memberships/", {"role": "viewer"}))
    assert [row["username"] for row in rows] == ["victor"]


def test_invalid_role_is_400_with_the_field(request, alice):
    membership = Membership.objects.get(user=alice)
    response = persona_client(request, "adam").patch(
        f"/api/v1/memberships/{membership.pk}/", {"role": "emperor"}, format="json"
    )
    assert response.status_code == 400
    assert "role" in response.json()["error"]["details"]


@pytest.mark.parametrize(
    "persona,org,role,staff",
    [
        ("alice", "acme", "owner", False),
        ("victor", "acme", "viewer", False),
        ("bob", "bluebird", "member", False),
        ("charlie", None, None, False),
        ("olga", None, None, True),
        ("adam", None, None, True),
    ],
)
def test_me_says_who_and_for_which_organization(request, persona, org, role, staff):
    response = persona_client(request, persona).get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == persona
    assert body["is_agency_staff"] is staff
    assert body["is_agency_admin"] is (persona == "adam")
    if org:
        assert (body["organization"]["slug"], body["organization"]["role"]) == (org, role)
    else:
        assert body["organization"] is None


@pytest.mark.parametrize("persona", ["anonymous", "revoked"])
def test_me_needs_credentials(request, persona):
    assert persona_client(request, persona).get("/api/v1/me/").status_code == 401
