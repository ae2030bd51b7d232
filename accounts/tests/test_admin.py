"""Operator console for organizations, memberships, users and notifications, and who may
manage them: sb_admin everything, sb_operator views users and memberships but changes none."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.api_tokens import ApiToken
from accounts.models import Membership
from accounts.roles import SB_ADMIN, SB_OPERATOR, MemberRole
from testkit import (
    PASSWORD,
    assert_console_pages_load,
    make_console_rows,
    registered_models,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_token(alice):
    token, key = ApiToken.issue(alice, "CRM sync")
    return token, key


@pytest.fixture
def console_rows(tenant_rows, org_a, shared_connection, alice, olga, adam, api_token):
    return make_console_rows(tenant_rows, org_a, shared_connection)


def user_change_url(user):
    return reverse("admin:auth_user_change", args=[user.pk])


@pytest.mark.parametrize("persona", ["adam", "olga"])
@pytest.mark.parametrize("model", registered_models("accounts", "auth"), ids=lambda m: m.__name__)
def test_every_accounts_page_loads_for_staff(client, console_rows, request, persona, model):
    assert_console_pages_load(client, request.getfixturevalue(persona), model)


@pytest.mark.parametrize("persona", ["adam", "olga"])
def test_index_is_the_operator_console(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    html = client.get("/admin/").content.decode()
    assert "Salesbrain operator console" in html
    assert "/admin/campaigns/campaign/" in html


@pytest.mark.parametrize("url", ["/admin/", "/admin/accounts/organization/", "/admin/auth/user/"])
def test_customers_and_anonymous_are_sent_to_login(client, alice, url):
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("admin:login"))
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_customer_cannot_log_in_to_the_console(client, alice):
    response = client.post(
        reverse("admin:login"), {"username": "alice", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 200  # the login form again, not a redirect into the console
    assert "_auth_user_id" not in client.session


# --- who may manage users -------------------------------------------------------------------


def test_staff_groups_have_the_permissions_the_console_relies_on():
    operator = Group.objects.get(name=SB_OPERATOR).permissions.values_list("codename", flat=True)
    admin = Group.objects.get(name=SB_ADMIN).permissions.values_list("codename", flat=True)
    for codename in ("change_user", "add_user", "change_group", "add_membership",
                     "change_membership", "change_providerconnection", "add_providerconnection"):  # fmt: skip
        assert codename not in operator
        assert codename in admin
    for codename in ("view_user", "view_membership", "view_providerconnection",
                     "change_campaign", "change_webhookevent", "change_alert"):  # fmt: skip
        assert codename in operator


def test_operator_can_view_but_not_change_users_groups_or_memberships(client, olga, alice):
    client.force_login(olga)
    page = client.get(user_change_url(alice))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:auth_user_add")).status_code == 403
    assert (
        client.get(reverse("admin:auth_user_password_change", args=[alice.pk])).status_code == 403
    )
    response = client.post(user_change_url(alice), {"username": "alice", "is_superuser": "on"})
    assert response.status_code == 403
    alice.refresh_from_db()
    assert not alice.is_superuser
    assert client.get(reverse("admin:auth_group_add")).status_code == 403
    assert client.get(reverse("admin:accounts_membership_add")).status_code == 403
    membership = Membership.objects.get(user=alice)
    change = reverse("admin:accounts_membership_change", args=[membership.pk])
    assert client.post(change, {"role": MemberRole.VIEWER}).status_code == 403
    membership.refresh_from_db()
    assert membership.role == MemberRole.OWNER


def test_operator_cannot_make_themselves_admin(client, olga):
    client.force_login(olga)
    group = Group.objects.get(name=SB_ADMIN)
    response = client.post(
        user_change_url(olga), {"username": "olga", "groups": [str(group.pk)], "is_staff": "on"}
    )
    assert response.status_code == 403
    assert not olga.groups.filter(name=SB_ADMIN).exists()


def test_admin_can_change_a_membership_role(client, adam, alice):
    client.force_login(adam)
    membership = Membership.objects.get(user=alice)
    change = reverse("admin:accounts_membership_change", args=[membership.pk])
    response = client.post(
        change,
        {"user": str(alice.pk), "organization": str(membership.organization_id), "role": "viewer"},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == MemberRole.VIEWER


def test_user_list_shows_staff_roles_and_organizations(client, adam, olga, alice):
    client.force_login(adam)
    html = client.get("/admin/auth/user/").content.decode()
    assert "sb_operator" in html
    assert "sb_admin" in html
    assert "Acme Outreach (owner)" in html


def test_user_page_lists_memberships(client, adam, alice):
    client.force_login(adam)
    html = client.get(user_change_url(alice)).content.decode()
    assert "Acme Outreach" in html
    assert 'name="memberships-0-role"' in html


def test_organization_page_lists_its_members(client, olga, alice, org_a):
    client.force_login(olga)
    html = client.get(
        reverse("admin:accounts_organization_change", args=[org_a.pk])
    ).content.decode()
    assert "alice" in html
    assert "Owner" in html


def test_organization_list_counts_members_and_campaigns(client, olga, alice, victor, tenant_rows):
    client.force_login(olga)
    response = client.get("/admin/accounts/organization/")
    rows = {
        org.name: (org._member_count, org._campaign_count)
        for org in response.context["cl"].result_list
    }
    assert rows == {"Acme Outreach": (2, 1), "Bluebird Growth": (0, 1)}


def test_notification_read_filter(client, olga, console_rows):
    client.force_login(olga)
    assert (
        "A lead is interested"
        in client.get("/admin/messaging/notification/?read=no").content.decode()
    )
    assert (
        "A lead is interested"
        not in client.get("/admin/messaging/notification/?read=yes").content.decode()
    )


def test_api_tokens_show_neither_key_nor_digest_and_can_be_revoked(client, adam, api_token):
    token, key = api_token
    client.force_login(adam)
    for url in (
        "/admin/accounts/apitoken/",
        reverse("admin:accounts_apitoken_change", args=[token.pk]),
    ):
        html = client.get(url).content.decode()
        assert "CRM sync" in html
        assert key not in html
        assert token.digest not in html
    assert client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [str(token.pk)]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not token.is_active


def test_the_old_notification_list_url_redirects_to_its_new_home(client, olga):
    client.force_login(olga)
    response = client.get("/admin/accounts/notification/?read=no")
    assert response.status_code == 302
    assert response["Location"] == "/admin/messaging/notification/?read=no"
