"""Operator console for threads and messages: pages, escaping of bodies, full-text search."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import staff_scope
from messaging.models import Message
from testkit import (
    assert_console_pages_load,
    make_console_rows,
    registered_models,
)

pytestmark = pytest.mark.django_db

MESSAGES = "/admin/messaging/message/"


@pytest.fixture
def console_rows(tenant_rows, org_a, shared_connection):
    return make_console_rows(tenant_rows, org_a, shared_connection)


@pytest.mark.parametrize("persona", ["adam", "olga"])
@pytest.mark.parametrize("model", registered_models("messaging"), ids=lambda m: m.__name__)
def test_every_messaging_page_loads_for_staff(client, console_rows, request, persona, model):
    assert_console_pages_load(client, request.getfixturevalue(persona), model)


def test_customers_and_anonymous_are_sent_to_login(client, alice, tenant_rows):
    assert client.get(MESSAGES).status_code == 302
    client.force_login(alice)
    response = client.get(MESSAGES)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_message_html_body_is_shown_escaped_never_rendered(client, olga, tenant_rows):
    message = tenant_rows["a"]["message"]
    with staff_scope():
        Message.objects.filter(pk=message.pk).update(body_html='<img src=x onerror="alert(1)">')
    client.force_login(olga)
    html = client.get(reverse("admin:messaging_message_change", args=[message.pk])).content.decode()
    assert '<img src=x onerror="alert(1)">' not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_search_finds_messages_by_words_of_the_body(client, olga, tenant_rows):
    client.force_login(olga)
    found = client.get(MESSAGES + "?q=pipelines").content.decode()  # stemmed: pipeline
    for key in ("a", "b", "shared"):
        url = reverse("admin:messaging_message_change", args=[tenant_rows[key]["message"].pk])
        assert url in found
    missing = client.get(MESSAGES + "?q=zebra").content.decode()
    assert (
        reverse("admin:messaging_message_change", args=[tenant_rows["a"]["message"].pk])
        not in missing
    )


def test_thread_page_lists_its_messages(client, olga, tenant_rows):
    thread = tenant_rows["a"]["thread"]
    client.force_login(olga)
    html = client.get(reverse("admin:messaging_thread_change", args=[thread.pk])).content.decode()
    assert "Hello a" in html
    assert "Hello b" not in html
