"""The organizations' daily ledger (campaigns.daily_totals) always equals the campaigns' days."""

import datetime as dt
import threading
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import Sum

from accounts.models import Organization
from accounts.tenancy import staff_scope, tenant_scope
from campaigns import daily_totals, recording
from campaigns.assignment import assign_campaign
from campaigns.models import Campaign, CampaignDailyStat, OrganizationDailyStat
from testkit import make_campaign

pytestmark = pytest.mark.django_db

D1, D2 = dt.date(2026, 11, 10), dt.date(2026, 11, 11)
COUNTERS = CampaignDailyStat.COUNTERS


def figures(model) -> dict:
    """{(organization, day): {counter: sum}} of every row, zero days left out."""
    with staff_scope():
        rows = (
            model.objects.unscoped()
            .values("organization_id", "date")
            .annotate(**{name: Sum(name) for name in COUNTERS})
            .order_by()
        )
        found = {}
        for row in rows:
            counts = {name: row[name] for name in COUNTERS}
            if any(counts.values()):
                found[(row["organization_id"], row["date"])] = counts
        return found


def assert_ledger_matches() -> dict:
    ledger = figures(OrganizationDailyStat)
    assert ledger == figures(CampaignDailyStat)
    assert daily_totals.differences() == []
    return ledger


def ledger_rows() -> int:
    with staff_scope():
        return OrganizationDailyStat.objects.unscoped().count()


def day(campaign, date, **counts):
    with staff_scope():
        return CampaignDailyStat.objects.create(
            organization_id=campaign.organization_id, campaign=campaign, date=date, **counts
        )


@pytest.fixture
def campaigns(tenant_rows, shared_connection, org_a):
    second = make_campaign(shared_connection, "cmp-a2", organization=org_a, name="Second")
    return {**{k: v["campaign"] for k, v in tenant_rows.items()}, "a2": second}


def test_inserts_updates_and_deletes_are_summed_per_organization_and_day(campaigns, org_a):
    day(campaigns["a"], D1, sent=10, unique_opened=4)
    row = day(campaigns["a2"], D1, sent=5, replied=1)
    day(campaigns["b"], D1, sent=7)
    day(campaigns["shared"], D2, sent=3)  # the shared workspace: organization NULL
    ledger = assert_ledger_matches()
    assert ledger[(org_a.pk, D1)]["sent"] == 15
    assert ledger[(None, D2)]["sent"] == 3

    with staff_scope():
        CampaignDailyStat.objects.unscoped().filter(pk=row.pk).update(sent=8, bounced=2)
        CampaignDailyStat.objects.unscoped().filter(campaign=campaigns["b"]).delete()
    ledger = assert_ledger_matches()
    assert ledger[(org_a.pk, D1)]["sent"] == 18
    assert ledger[(org_a.pk, D1)]["bounced"] == 2
    assert not any(org == campaigns["b"].organization_id for org, _ in ledger)


def test_processing_increments_are_added(campaigns, org_a):
    day(campaigns["a"], D1, sent=10)
    organization_of = {campaigns["a"].pk: org_a.pk, campaigns["a2"].pk: org_a.pk}
    with staff_scope():
        recording.add_campaign_counts(
            {
                (campaigns["a"].pk, D1): Counter(sent=2, replied=1),  # the upsert's UPDATE
                (campaigns["a2"].pk, D2): Counter(sent=1),  # its INSERT
            },
            organization_of,
        )
    ledger = assert_ledger_matches()
    assert ledger[(org_a.pk, D1)]["sent"] == 12
    assert ledger[(org_a.pk, D2)]["sent"] == 1


def test_a_statement_changing_nothing_adds_no_row(campaigns):
    row = day(campaigns["a"], D1, sent=10)
    before = ledger_rows()
    with staff_scope():
        CampaignDailyStat.objects.unscoped().filter(pk=row.pk).update(sent=10)
    assert ledger_rows() == before


def test_a_campaign_moved_to_another_organization_takes_its_figures_along(campaigns, org_a, org_b):
    day(campaigns["a2"], D1, sent=5)
    day(campaigns["a"], D1, sent=10)
    assign_campaign(campaigns["a2"], org_b)
    ledger = assert_ledger_matches()
    assert ledger[(org_a.pk, D1)]["sent"] == 10
    assert ledger[(org_b.pk, D1)]["sent"] == 5
    assign_campaign(campaigns["a2"], None)
    assert assert_ledger_matches()[(None, D1)]["sent"] == 5


def test_a_deleted_campaign_and_a_deleted_organization_leave_nothing(campaigns, org_a, org_b):
    day(campaigns["a"], D1, sent=10)
    day(campaigns["a2"], D2, sent=5)
    day(campaigns["b"], D1, sent=7)
    with staff_scope():
        Campaign.objects.unscoped().filter(pk=campaigns["a2"].pk).delete()
    assert assert_ledger_matches()[(org_a.pk, D1)]["sent"] == 10
    with staff_scope():
        Organization.objects.filter(pk=org_a.pk).delete()
    ledger = assert_ledger_matches()
    assert set(ledger) == {(org_b.pk, D1)}
    daily_totals.compact()
    with staff_scope():
        left = set(OrganizationDailyStat.objects.unscoped().values_list("organization_id", "date"))
    assert left == {(org_b.pk, D1)}  # the deleted organization's days summed to zero, dropped


def test_compaction_folds_each_day_into_one_row_and_keeps_the_sums(campaigns):
    rows = [day(campaigns["a"], D1, sent=1), day(campaigns["a2"], D1, sent=2)]
    day(campaigns["b"], D2, sent=3)
    with staff_scope():
        for n in range(5):
            CampaignDailyStat.objects.unscoped().filter(pk__in=[r.pk for r in rows]).update(
                sent=n + 10
            )
    before = assert_ledger_matches()
    assert ledger_rows() > 3
    assert daily_totals.compact() > 0
    assert assert_ledger_matches() == before
    assert ledger_rows() == 2  # (org A, D1) and (org B, D2)
    assert daily_totals.compact() == 0  # nothing pending


def test_rebuild_recomputes_the_ledger_from_the_campaigns_days(campaigns):
    day(campaigns["a"], D1, sent=10)
    day(campaigns["b"], D2, sent=7)
    with staff_scope():
        # As after a load with triggers off (pg_restore --disable-triggers, a bulk loader).
        OrganizationDailyStat.objects.unscoped().filter(date=D1).delete()
    assert figures(OrganizationDailyStat) != figures(CampaignDailyStat)
    assert daily_totals.differences() == [(campaigns["a"].organization_id, D1)]
    out = StringIO()
    call_command("rebuild_daily_totals", stdout=out)
    assert "1 (organization, day) pair(s) differed" in out.getvalue()
    assert "Rebuilt 2 organization day(s)" in out.getvalue()
    assert assert_ledger_matches()[(campaigns["a"].organization_id, D1)]["sent"] == 10
    assert daily_totals.differences() == []


def test_a_customer_sees_only_its_own_days_and_no_scope_sees_none(campaigns, org_a, org_b):
    day(campaigns["a"], D1, sent=10)
    day(campaigns["b"], D1, sent=7)
    day(campaigns["shared"], D1, sent=3)
    with tenant_scope(org_a.pk), connection.cursor() as cursor:
        cursor.execute("SELECT organization_id, sent FROM campaigns_organizationdailystat")
        assert cursor.fetchall() == [(org_a.pk, 10)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM campaigns_organizationdailystat")
        assert cursor.fetchone() == (0,)


def test_a_customer_cannot_write_another_organizations_days(campaigns, org_a, org_b):
    from django.db.utils import ProgrammingError

    with pytest.raises(ProgrammingError, match="row-level security"):
        with tenant_scope(org_a.pk), transaction.atomic():
            OrganizationDailyStat.objects.unscoped().create(organization=org_b, date=D1, sent=1)


def test_compaction_is_scheduled_and_registered(settings):
    from salesbrain.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["campaigns-compact-daily-totals"]
    assert entry["task"] == "campaigns.daily_totals.compact_daily_totals"
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


def _in_other_transaction(work, started: threading.Event, finish: threading.Event, errors: list):
    def run():
        try:
            with transaction.atomic():
                work()
                started.set()
                finish.wait(10)
        except Exception as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)
            started.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_compaction_steps_aside_while_a_rebuild_or_another_compaction_runs(tenant_rows):
    """A rebuild beside a compaction would keep the compaction's sums beside its own."""
    day(tenant_rows["a"]["campaign"], D1, sent=1)
    day(tenant_rows["a"]["campaign"], D2, sent=1)
    started, finish, errors = threading.Event(), threading.Event(), []

    def hold_the_lock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [daily_totals.ADVISORY_LOCK])

    thread = _in_other_transaction(hold_the_lock, started, finish, errors)
    try:
        assert started.wait(10)
        assert daily_totals.compact() == 0  # did nothing, waited for nothing
        assert ledger_rows() == 2
    finally:
        finish.set()
        thread.join()
    assert errors == []
    assert daily_totals.compact() == 2


@pytest.mark.django_db(transaction=True)
def test_writers_of_one_organizations_day_and_compaction_never_wait_for_each_other(
    tenant_rows, shared_connection, org_a
):
    """One row per day updated by a trigger would make the second writer wait for the first
    (and two writers meeting on two days in opposite orders deadlock); the ledger does not."""
    first = tenant_rows["a"]["campaign"]
    second = make_campaign(shared_connection, "cmp-a2", organization=org_a)
    day(first, D1, sent=1)
    day(second, D1, sent=1)
    daily_totals.compact()
    started, finish, errors = threading.Event(), threading.Event(), []

    def write_first():
        with staff_scope():
            CampaignDailyStat.objects.unscoped().filter(campaign=first).update(sent=5)

    thread = _in_other_transaction(write_first, started, finish, errors)
    try:
        assert started.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")  # fail, not hang, if it waited
            with staff_scope():
                CampaignDailyStat.objects.unscoped().filter(campaign=second).update(sent=7)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            daily_totals.compact()  # the uncommitted difference is left for the next run
    finally:
        finish.set()
        thread.join()
    assert errors == []
    assert assert_ledger_matches()[(org_a.pk, D1)]["sent"] == 12
    daily_totals.compact()
    assert assert_ledger_matches()[(org_a.pk, D1)]["sent"] == 12
    assert ledger_rows() == 1
