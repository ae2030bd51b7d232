"""`make run`'s demo data: every customer page has something real to show."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Organization
from accounts.tenancy import tenant_scope
from campaigns.models import Campaign, CampaignDailyStat, EmailAccount, Lead
from messaging.models import Thread

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_logins_and_fills_both_customers(monkeypatch, client):
    monkeypatch.setattr("instantly.demo.DEMO_DELIVERIES", 400)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()

    passwords = dict(re.findall(r"^\s+(alice|bob|admin)\s+(\S+)", text, re.M))
    assert set(passwords) == {"alice", "bob", "admin"}
    assert "sandbox-key" not in text

    for slug in ("acme", "bluebird"):
        org = Organization.objects.get(slug=slug)
        with tenant_scope(org.pk):
            assert Campaign.objects.count() >= 4
            assert CampaignDailyStat.objects.filter(sent__gt=0).exists()
            assert EmailAccount.objects.exists()
            assert Thread.objects.filter(has_reply=True).exists()
            # Replies arrive through webhook processing, which categorises them.
            assert Thread.objects.filter(has_reply=True).exclude(category="").exists()
            assert Lead.objects.filter(score__gt=0).exists()

    login = client.post("/accounts/login/", {"username": "alice", "password": passwords["alice"]})
    assert login.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert b"Acme Outreach" in page.content
    assert b"Hot leads" in page.content
    assert b'class="badge category-' in client.get("/inbox/").content
