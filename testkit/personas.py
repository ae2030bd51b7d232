"""The two customer organizations and the six personas every test talks about.

Who may see what is the point of most tests, so each persona is one role: a test that logs in
as victor is about what a viewer may do, whatever else it checks.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.models import Membership, Organization
from accounts.roles import SB_ADMIN, SB_OPERATOR, MemberRole

PASSWORD = "correct horse battery staple"


def make_user(username, *, groups=(), is_staff=False, is_superuser=False):
    """A user who logs in with PASSWORD, in the named groups (sb_operator, sb_admin)."""
    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def make_member(username, organization, role):
    """A user with one membership, in `organization` with `role`."""
    user = make_user(username)
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


def make_org_a():
    """Org A, "Acme Outreach": alice's and victor's organization."""
    return Organization.objects.create(name="Acme Outreach", slug="acme")


def make_org_b():
    """Org B, "Bluebird Growth": bob's organization."""
    return Organization.objects.create(name="Bluebird Growth", slug="bluebird")


def make_alice(org_a):
    """alice: owner in org A."""
    return make_member("alice", org_a, MemberRole.OWNER)


def make_victor(org_a):
    """victor: viewer in org A, reads, never writes."""
    return make_member("victor", org_a, MemberRole.VIEWER)


def make_bob(org_b):
    """bob: member in org B."""
    return make_member("bob", org_b, MemberRole.MEMBER)


def make_charlie():
    """charlie: a user with no organization at all."""
    return make_user("charlie")


def make_olga():
    """olga: agency operator (sb_operator), sees every organization and the shared workspace."""
    return make_user("olga", groups=[SB_OPERATOR], is_staff=True)


def make_adam():
    """adam: agency admin (sb_admin)."""
    return make_user("adam", groups=[SB_ADMIN], is_staff=True)
