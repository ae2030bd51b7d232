"""`make run`'s demo: both customers have notifications under their bell, and alice (opted in)
gets emails, which the console backend prints in development."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client

from accounts.models import Organization
from accounts.tenancy import staff_scope
from messaging.models import DeliveryAttempt, Notification

pytestmark = pytest.mark.django_db


def test_demo_customers_see_notifications_and_alice_gets_their_emails():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    for username, slug in (("alice", "acme"), ("bob", "bluebird")):
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        page = client.get("/notifications/")
        with staff_scope():
            count = Notification.objects.filter(organization__slug=slug).count()
        assert count > 5, (slug, count)
        assert page.context["notifications_unread"]() == count
        assert page.context["page"].object_list, username
    assert "3 notification email(s) to alice (console)." in out.getvalue()
    assert {tuple(m.to) for m in mail.outbox} == {("alice@demo.salesbrain.local",)}
    with staff_scope():
        acme = Organization.objects.get(slug="acme")
        assert DeliveryAttempt.objects.filter(organization=acme, status="sent").count() == 3
