import datetime as dt

import pytest

from accounts.tenancy import staff_scope, tenant_scope
from campaigns import stats
from campaigns.models import CampaignDailyStat

pytestmark = pytest.mark.django_db

D = dt.date(2026, 11, 10)


@pytest.fixture
def daily(tenant_rows, org_a, org_b):
    with staff_scope():
        for offset, sent, opened in ((0, 100, 40), (1, 50, 10), (-2, 10, 5)):
            CampaignDailyStat.objects.create(
                organization=org_a,
                campaign=tenant_rows["a"]["campaign"],
                date=D + dt.timedelta(days=offset),
                sent=sent,
                unique_opened=opened,
                bounced=2,
            )
        CampaignDailyStat.objects.create(
            organization=org_b, campaign=tenant_rows["b"]["campaign"], date=D, sent=999
        )


def test_summary_sums_only_the_tenants_rows_and_derives_rates(daily, org_a):
    with tenant_scope(org_a.pk):
        summary = stats.summarize(CampaignDailyStat.objects.all())
    assert summary.sent == 160
    assert summary.open_rate == round(55 / 160, 4)
    assert summary.bounce_rate == round(6 / 160, 4)


def test_period_comparison_uses_the_period_just_before(daily, org_a):
    with tenant_scope(org_a.pk):
        cmp = stats.compare_with_previous(CampaignDailyStat.objects.all(), D, D + dt.timedelta(1))
    assert cmp.current.sent == 150
    assert cmp.previous.sent == 10  # the previous period is D-2..D-1
    assert cmp.change("sent") == 14.0


def test_daily_series_fills_missing_days_with_zero(daily, org_a):
    with tenant_scope(org_a.pk):
        series = stats.daily_series(CampaignDailyStat.objects.all(), D - dt.timedelta(3), D)
    assert [row["sent"] for row in series] == [0, 10, 0, 100]


def test_rates_are_zero_without_sends():
    assert stats.StatSummary().open_rate == 0.0


def test_point_change_is_the_difference_of_rates_and_none_without_sends():
    before = stats.StatSummary(
        {**dict.fromkeys(stats.COUNTERS, 0), "sent": 200, "unique_opened": 78}
    )
    now = stats.StatSummary({**dict.fromkeys(stats.COUNTERS, 0), "sent": 100, "unique_opened": 62})
    cmp = stats.PeriodComparison(D, D, now, before)
    assert cmp.point_change("open_rate") == 0.23  # 62.0% against 39.0%
    assert stats.PeriodComparison(D, D, now, stats.StatSummary()).point_change("open_rate") is None
