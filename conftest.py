"""Test set-up shared by every app: the database, the personas and a tenant row set.

The test database is created and migrated as the owner role (like `manage.py migrate`); every
test then runs on the application role, which row-level security binds, so isolation tests
cannot pass vacuously.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.db import as_owner
from accounts.models import Membership, Organization
from accounts.roles import SB_ADMIN, SB_OPERATOR, MemberRole
from accounts.tenancy import staff_scope

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    """pytest-django's set-up, run as the owner (xdist workers each get their own database)."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        with as_owner("default"):
            db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    yield
    with django_db_blocker.unblock():
        with as_owner("default"):
            teardown_databases(db_cfg, verbosity=0)


def make_user(username, *, groups=(), is_staff=False, is_superuser=False):
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


@pytest.fixture
def org_a(db):
    return Organization.objects.create(name="Acme Outreach", slug="acme")


@pytest.fixture
def org_b(db):
    return Organization.objects.create(name="Bluebird Growth", slug="bluebird")


@pytest.fixture
def alice(org_a):
    """Owner in org A."""
    user = make_user("alice")
    Membership.objects.create(user=user, organization=org_a, role=MemberRole.OWNER)
    return user


@pytest.fixture
def bob(org_b):
    """Member in org B."""
    user = make_user("bob")
    Membership.objects.create(user=user, organization=org_b, role=MemberRole.MEMBER)
    return user


@pytest.fixture
def victor(org_a):
    """Viewer in org A: reads, never writes."""
    user = make_user("victor")
    Membership.objects.create(user=user, organization=org_a, role=MemberRole.VIEWER)
    return user


@pytest.fixture
def charlie(db):
    """A user with no organization at all."""
    return make_user("charlie")


@pytest.fixture
def olga(db):
    """Agency operator (sb_operator): sees every organization and the shared workspace."""
    return make_user("olga", groups=[SB_OPERATOR], is_staff=True)


@pytest.fixture
def adam(db):
    """Agency admin (sb_admin)."""
    return make_user("adam", groups=[SB_ADMIN], is_staff=True)


@pytest.fixture
def shared_connection(db):
    from instantly.models import ProviderConnection

    with staff_scope():
        conn = ProviderConnection(name="Agency workspace", is_shared=True, workspace_id="ws-shared")
        conn.api_key = "test-shared-key-0000"
        conn.save()
    return conn


@pytest.fixture
def tenant_rows(org_a, org_b, shared_connection):
    """One campaign (with a contact and a message) in org A, one in org B, one shared (NULL)."""
    from campaigns.models import Campaign, Contact
    from messaging.models import Message, Thread

    rows = {}
    with staff_scope():
        for key, org in (("a", org_a), ("b", org_b), ("shared", None)):
            campaign = Campaign.objects.create(
                organization=org,
                connection=shared_connection,
                instantly_id=f"cmp-{key}",
                name=f"Campaign {key}",
            )
            contact = Contact.objects.create(organization=org, email=f"lead-{key}@example.com")
            thread = Thread.objects.create(
                organization=org, campaign=campaign, contact=contact, subject=f"Hello {key}"
            )
            message = Message.objects.create(
                organization=org,
                thread=thread,
                campaign=campaign,
                contact=contact,
                direction=Message.Direction.OUTBOUND,
                kind=Message.Kind.CAMPAIGN,
                subject=f"Hello {key}",
                body_text="Quick question about your pipeline",
                sent_at="2026-11-01T10:00:00Z",
            )
            rows[key] = {
                "campaign": campaign,
                "contact": contact,
                "thread": thread,
                "message": message,
            }
    return rows
