"""The demo shows some replied threads: after the traffic, a few replies go out through the
portal's reply service to the sandbox, and Instantly's copies merge into them on the last sync."""

from __future__ import annotations

from io import StringIO

import pytest
import responses
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.models import Organization
from accounts.tenancy import staff_scope, tenant_scope
from instantly.demo import DEMO_REPLIES, refresh_planner_statistics
from instantly.models import BlocklistAction
from messaging.models import Message

pytestmark = pytest.mark.django_db


def demo_replies(slug: str) -> list[Message]:
    org = Organization.objects.get(slug=slug)
    with tenant_scope(org.pk):
        return list(
            Message.objects.filter(kind=Message.Kind.MANUAL, sent_by__isnull=False)
            .select_related("sent_by", "thread")
            .order_by("pk")
        )


def test_the_demo_sends_a_few_replies_through_the_sandbox_and_shows_them(client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert f"Replies sent from the inbox: {2 * DEMO_REPLIES}." in out.getvalue()
    for slug, username in (("acme", "alice"), ("bluebird", "bob")):
        sent = demo_replies(slug)
        assert len(sent) == DEMO_REPLIES, slug
        for message in sent:
            assert message.status == Message.Status.SENT
            assert message.direction == Message.Direction.OUTBOUND
            assert message.sent_by.username == username
            assert message.instantly_email_id  # the sandbox's id: its copy merged, not doubled
            assert message.subject.startswith("Re: ")
            with tenant_scope(message.organization_id):
                copies = Message.objects.filter(
                    campaign_id=message.campaign_id, instantly_email_id=message.instantly_email_id
                )
                assert copies.count() == 1
    # The thread page shows the reply, sent.
    reply = demo_replies("acme")[0]
    client.force_login(reply.sent_by)
    page = client.get(reverse("inbox:thread", args=[reply.thread_id])).content.decode()
    assert "Would Tuesday or Thursday afternoon suit you" in page

    # A second run sends nothing again (one key per thread).
    before = [m.pk for m in demo_replies("acme")]
    call_command("seed_demo", stdout=StringIO())
    assert [m.pk for m in demo_replies("acme")] == before


def test_the_demo_leaves_planner_statistics_behind():
    """Fresh tables without statistics make the inbox's per-thread lookups scan every message."""
    refresh_planner_statistics()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'messaging_message'"
        )
        assert cursor.fetchone()[0] is not None


def test_the_demo_load_talks_only_to_the_sandbox(django_capture_on_commit_callbacks):
    """Every client made while the demo loads (sync, reply sender, block-list push) goes to the
    local sandbox: a request anywhere else fails this test instead of reaching Instantly."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as guard:
        guard.add_passthru("http://127.0.0.1")
        # After-commit work (the block-list push) runs too, as it does under `make run`.
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", stdout=StringIO())
        assert not [c.request.url for c in guard.calls]
    with staff_scope():
        actions = list(BlocklistAction.objects.unscoped().values_list("status", "error"))
    assert actions, "the demo has do-not-contact replies, so the push must have run"
    assert all(status != BlocklistAction.Status.FAILED for status, _ in actions), actions
