"""The indexed search path (`sb_search_message_ids`, migrations 0009, 0012) keeps isolation.

The function runs as `sb_search_reader`, for which row-level security lets every row through,
so that the planner may use the full-text indexes; these tests check that isolation still holds
there: the scope comes from the transaction's signed scope, never from an argument.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.rls import scope_proof
from accounts.tenancy import staff_scope, tenant_scope
from messaging.models import Message
from messaging.search import search_messages
from testkit.rows import make_message

pytestmark = pytest.mark.django_db

SQL = "SELECT public.sb_search_message_ids(websearch_to_tsquery('english', %s), %s, %s)"


def found(text: str = "pipeline", limit: int = 100, only_org=None) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(SQL, [text, limit, str(only_org) if only_org else None])
        return {row[0] for row in cursor.fetchall()}


def ids(rows, *keys) -> set[int]:
    return {rows[key]["message"].pk for key in keys}


def test_a_customer_finds_only_their_organizations_messages(tenant_rows, org_a, org_b):
    with tenant_scope(org_a.pk):
        assert found() == ids(tenant_rows, "a")  # every organization's message says "pipeline"
    with tenant_scope(org_b.pk):
        assert found() == ids(tenant_rows, "b")


def test_naming_another_organization_finds_nothing(tenant_rows, org_a, org_b):
    with tenant_scope(org_a.pk):
        assert found(only_org=org_b.pk) == set()
        assert found(only_org=org_a.pk) == ids(tenant_rows, "a")


def test_staff_find_every_organization_and_can_narrow_to_one(tenant_rows, org_b):
    with staff_scope():
        assert found() == ids(tenant_rows, "a", "b", "shared")
        assert found(only_org=org_b.pk) == ids(tenant_rows, "b")


def test_no_scope_finds_nothing(tenant_rows):
    with transaction.atomic():
        assert found() == set()


def test_a_forged_scope_finds_nothing(tenant_rows, org_a, org_b):
    other_pid = connection.connection.info.backend_pid + 1
    forgeries = [
        ("staff", ""),
        (f"org:{org_b.pk}", ""),
        ("staff", "0" * 64),
        # A genuine proof, but of another database session.
        (f"org:{org_b.pk}", scope_proof(f"org:{org_b.pk}", other_pid)),
        ("staff", scope_proof("staff", other_pid)),
    ]
    for scope, proof in forgeries:
        with tenant_scope(org_a.pk), connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('app.scope', %s, true), set_config('app.scope_proof', %s, true)",
                [scope, proof],
            )
            assert found() == set(), scope


def test_the_application_role_cannot_become_the_search_role(tenant_rows, org_a):
    for statement in (
        "SET ROLE sb_search_reader",
        "SET SESSION AUTHORIZATION sb_search_reader",
        "ALTER FUNCTION sb_search_message_ids(tsquery, integer, uuid) SECURITY INVOKER",
        "DROP POLICY search_reader ON messaging_message",
    ):
        with tenant_scope(org_a.pk), pytest.raises(DatabaseError):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)


def test_only_the_newest_matches_are_candidates(tenant_rows, org_a):
    thread = tenant_rows["a"]["thread"]
    newer = [
        make_message(thread, subject="Pipeline", sent_at=f"2026-11-0{day}T10:00:00Z")
        for day in (2, 3, 4)
    ]
    with tenant_scope(org_a.pk):
        assert found(limit=2) == {newer[2].pk, newer[1].pk}
        assert found(limit=10) == {m.pk for m in newer} | ids(tenant_rows, "a")


def test_search_messages_indexed_and_direct_agree_within_the_scope(tenant_rows, org_a):
    with tenant_scope(org_a.pk):
        indexed = set(search_messages(Message.objects.all(), "pipeline").values_list("pk"))
        direct = set(
            search_messages(Message.objects.all(), "pipeline", indexed=False).values_list("pk")
        )
    assert indexed == direct == {(tenant_rows["a"]["message"].pk,)}


def test_a_rare_word_beyond_the_newest_messages_is_still_found(tenant_rows, org_a, org_b):
    """Step 2 of the function (the GIN index) finds what the newest messages do not hold."""
    thread = tenant_rows["a"]["thread"]
    rare = make_message(thread, subject="Zeppelin", sent_at="2026-10-01T10:00:00Z")
    for day in range(2, 9):  # newer than it, more than 4 x limit
        make_message(thread, subject="Other", sent_at=f"2026-11-0{day}T10:00:00Z")
    other_thread = tenant_rows["b"]["thread"]
    make_message(other_thread, subject="Zeppelin", sent_at="2026-11-20T10:00:00Z")
    with tenant_scope(org_a.pk):
        assert found("zeppelin", limit=1) == {rare.pk}
        assert found("zeppelin", limit=2) == {rare.pk}  # not org B's, though it is newer


def test_a_frequent_word_is_read_further_back_newest_first(tenant_rows, org_a):
    """Found in one message in five: the second pass reads further back by sent_at, so the
    candidates are exactly the newest matches (the GIN step would give the oldest first)."""
    thread = tenant_rows["a"]["thread"]
    base = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
    matching = []
    for i in range(60):
        subject = "Walrus" if i % 5 == 0 else "Other"
        message = make_message(thread, subject=subject, sent_at=base + dt.timedelta(minutes=i))
        if subject == "Walrus":
            matching.append(message.pk)
    with tenant_scope(org_a.pk):
        # 8 wanted: the newest 32 messages hold 6 (not enough), a second pass finds 8.
        assert found("walrus", limit=8) == set(matching[-8:])


def test_the_index_is_read_week_by_week_so_the_newest_rare_matches_come_first(
    tenant_rows, org_a, org_b
):
    """Step 2 asks one week at a time, newest first: of three rare matches in three weeks, the
    two newest are the candidates (in table order the oldest came first)."""
    thread = tenant_rows["a"]["thread"]
    rare = [
        make_message(thread, subject="Quokka", sent_at=f"2026-10-{day:02}T10:00:00Z")
        for day in (1, 9, 17)  # three different weeks, created oldest first
    ]
    for day in range(20, 29):  # newer than all of them, more than 4 x limit
        make_message(thread, subject="Other", sent_at=f"2026-10-{day}T10:00:00Z")
    make_message(tenant_rows["b"]["thread"], subject="Quokka", sent_at="2026-10-18T10:00:00Z")
    with tenant_scope(org_a.pk):
        assert found("quokka", limit=2) == {rare[2].pk, rare[1].pk}
        assert found("quokka", limit=5) == {m.pk for m in rare}


def test_a_week_with_more_matches_than_wanted_gives_its_newest(tenant_rows, org_a):
    thread = tenant_rows["a"]["thread"]
    base = dt.datetime(2026, 10, 12, 9, tzinfo=dt.UTC)  # a Monday: all five in one week
    rare = [
        make_message(thread, subject="Okapi", sent_at=base + dt.timedelta(hours=h))
        for h in (30, 10, 50, 0, 40)  # created out of time order
    ]
    for day in range(20, 29):  # newer than all of them, more than 4 x limit
        make_message(thread, subject="Other", sent_at=f"2026-10-{day}T10:00:00Z")
    with tenant_scope(org_a.pk):
        assert found("okapi", limit=2) == {rare[2].pk, rare[4].pk}


def test_a_match_older_than_the_weeks_asked_is_found_through_the_whole_organization(
    tenant_rows, org_a
):
    """After 13 weeks without enough matches, the organization as a whole is asked."""
    thread = tenant_rows["a"]["thread"]
    old = make_message(thread, subject="Narwhal", sent_at="2025-06-02T10:00:00Z")
    for day in range(2, 9):
        make_message(thread, subject="Other", sent_at=f"2026-11-0{day}T10:00:00Z")
    with tenant_scope(org_a.pk):
        assert found("narwhal", limit=1) == {old.pk}


def test_a_word_in_fewer_messages_than_wanted_is_found_in_full_past_the_weeks_asked(
    tenant_rows, org_a
):
    """The organization-wide question after 13 weeks asks for what is still missing, not again
    for matches the weeks found (stored first, they come first in table order)."""
    thread = tenant_rows["a"]["thread"]
    recent = [
        make_message(thread, subject="Quokka", sent_at=f"2026-10-{day:02}T10:00:00Z")
        for day in (1, 8, 15)
    ]
    old = make_message(thread, subject="Quokka", sent_at="2025-06-02T10:00:00Z")
    for i in range(25):  # newer than all of them, more than 4 x limit
        make_message(thread, subject="Other", sent_at=f"2026-10-{20 + i % 9}T{i % 24:02}:00:00Z")
    with tenant_scope(org_a.pk):
        assert found("quokka", limit=4) == {m.pk for m in recent} | {old.pk}


def test_staff_find_a_rare_word_in_full_beside_the_newest_matches(tenant_rows):
    """One match among the newest messages, nine further back: the index is asked for the
    nine, not for nine that may include the one already found (stored first)."""
    thread = tenant_rows["a"]["thread"]
    newest = make_message(thread, subject="Wombat", sent_at="2026-11-25T10:00:00Z")
    older = [
        make_message(thread, subject="Wombat", sent_at=f"2026-08-0{day}T10:00:00Z")
        for day in range(1, 10)
    ]
    for i in range(45):  # between them: the newest 40 messages hold one match
        make_message(thread, subject="Other", sent_at=f"2026-11-{1 + i % 20:02}T{i % 24:02}:00:00Z")
    with staff_scope():
        assert found("wombat", limit=10) == {newest.pk} | {m.pk for m in older}


def test_a_week_lexeme_in_message_text_matches_nothing(tenant_rows, org_a, org_b):
    """Like the organization's lexeme, the week's has spaces the text parser never keeps."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT public.sb_message_week('2026-11-01T10:00:00Z'::timestamptz)")
        week = cursor.fetchone()[0]
    make_message(tenant_rows["b"]["thread"], subject=f"org {org_a.pk} week {week}", body_text="yak")
    with tenant_scope(org_a.pk):
        assert found("yak", limit=1) == set()


def test_weeks_start_on_monday_utc():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public.sb_message_week(t::timestamptz) FROM unnest(%s::text[]) AS t",
            [["1970-01-05T00:00:00Z", "1970-01-11T23:59:59Z", "1970-01-12T00:00:00Z",
              "2026-11-30T00:00:00+01:00"]],
        )  # fmt: skip
        weeks = [row[0] for row in cursor.fetchall()]
    # The last is Sunday 23:00 UTC: still the week before Monday 2026-11-30.
    assert weeks == [0, 0, 1, (dt.date(2026, 11, 23) - dt.date(1970, 1, 5)).days // 7]


def test_stop_words_only_match_nothing(tenant_rows, org_a):
    """An empty query AND-ed with the organization's lexeme would match every message."""
    with tenant_scope(org_a.pk):
        assert found("the") == set()
        assert found("pipeline") == ids(tenant_rows, "a")


def test_message_text_cannot_pose_as_an_organization(tenant_rows, org_a, org_b):
    """The organization's lexeme has a space, which the text parser never keeps; and the
    function checks organization_id besides."""
    make_message(tenant_rows["b"]["thread"], subject=f"org {org_a.pk}", body_text="zebra")
    with tenant_scope(org_a.pk):
        assert found("zebra", limit=1) == set()
