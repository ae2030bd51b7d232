"""Tenant isolation, enforced twice: the fail-closed manager and PostgreSQL row-level security.

Runs as the application role (see conftest), the same kind of role the product connects as.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.managers import TenantModel
from accounts.middleware import TenantMiddleware
from accounts.tenancy import TenantNotSet, current_tenant, staff_scope, tenant_scope
from campaigns.models import Campaign, Contact
from messaging.models import Message, Thread

pytestmark = pytest.mark.django_db

TENANT_MODELS = [m for m in apps.get_models() if issubclass(m, TenantModel)]


def sql_org_ids(table: str) -> set[str | None]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT organization_id FROM {table}")  # noqa: S608 - fixed table names
        return {str(row[0]) if row[0] else None for row in cursor.fetchall()}


def test_every_tenant_table_has_forced_row_level_security():
    assert len(TENANT_MODELS) >= 10
    with connection.cursor() as cursor:
        for model in TENANT_MODELS:
            cursor.execute(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
                [model._meta.db_table],
            )
            assert cursor.fetchone() == (True, True), model._meta.db_table


def test_every_tenant_table_has_an_organization_column():
    for model in TENANT_MODELS:
        assert model._meta.get_field("organization").column == "organization_id"


def test_application_role_is_not_superuser_nor_bypassrls_nor_owner():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        user, is_super, bypass = cursor.fetchone()
        assert (is_super, bypass) == (False, False)
        tables = [m._meta.db_table for m in TENANT_MODELS]
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)",
            [tables],
        )
        assert cursor.fetchall() == []
    assert user != "root"


@pytest.mark.parametrize("model", [Campaign, Contact, Thread, Message])
def test_orm_in_org_a_sees_only_org_a_rows(tenant_rows, org_a, model):
    with tenant_scope(org_a.pk):
        rows = list(model.objects.all())
        assert {r.organization_id for r in rows} == {org_a.pk}
        # Even past the manager (unscoped), the database hides org B and the shared rows.
        assert {r.organization_id for r in model.objects.unscoped()} == {org_a.pk}


def test_sql_in_org_a_sees_only_org_a_rows(tenant_rows, org_a):
    with tenant_scope(org_a.pk):
        for table in ("campaigns_campaign", "campaigns_contact", "messaging_message"):
            assert sql_org_ids(table) == {str(org_a.pk)}


def test_without_tenant_sql_sees_nothing_and_manager_raises(tenant_rows):
    assert current_tenant() is None
    assert sql_org_ids("campaigns_campaign") == set()
    with pytest.raises(TenantNotSet):
        list(Campaign.objects.all())


def test_empty_scope_sees_nothing(tenant_rows):
    with tenant_scope(None):
        assert list(Campaign.objects.all()) == []
        assert sql_org_ids("campaigns_campaign") == set()


def test_writing_org_b_row_in_org_a_context_is_refused(
    tenant_rows, org_a, org_b, shared_connection
):
    with tenant_scope(org_a.pk):
        with pytest.raises(ProgrammingError, match="row-level security"):
            with transaction.atomic():
                Contact.objects.create(organization=org_b, email="intruder@example.com")
        with pytest.raises(ProgrammingError, match="row-level security"):
            with transaction.atomic():
                Contact.objects.create(organization=None, email="shared@example.com")
        # Moving an own row to another tenant is refused too (WITH CHECK on UPDATE).
        with pytest.raises(ProgrammingError, match="row-level security"):
            with transaction.atomic():
                Contact.objects.filter(organization=org_a).update(organization=org_b)
        Contact.objects.create(organization=org_a, email="fine@example.com")


def test_updates_cannot_touch_other_tenants_rows(tenant_rows, org_a, org_b):
    with tenant_scope(org_a.pk):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE campaigns_campaign SET name = 'hijacked'")
            assert cursor.rowcount == 1
    with staff_scope():
        assert Campaign.objects.get(pk=tenant_rows["b"]["campaign"].pk).name == "Campaign b"


def test_staff_see_every_row_including_shared(tenant_rows, org_a, org_b):
    with staff_scope():
        assert {c.organization_id for c in Campaign.objects.all()} == {org_a.pk, org_b.pk, None}
        assert sql_org_ids("messaging_message") == {str(org_a.pk), str(org_b.pk), None}


def test_nested_scope_restores_outer_context(tenant_rows, org_a, org_b):
    with tenant_scope(org_a.pk):
        with tenant_scope(org_b.pk):
            assert sql_org_ids("campaigns_campaign") == {str(org_b.pk)}
        assert sql_org_ids("campaigns_campaign") == {str(org_a.pk)}
    assert sql_org_ids("campaigns_campaign") == set()


@pytest.mark.django_db(transaction=True)
def test_reused_connection_carries_no_context(tenant_rows, org_a):
    with tenant_scope(org_a.pk):
        assert sql_org_ids("campaigns_campaign") == {str(org_a.pk)}
    # Same connection, next transaction: nothing of the previous tenant remains.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.scope', true), pg_backend_pid()")
        setting, _pid = cursor.fetchone()
    assert setting in ("", None)
    assert sql_org_ids("campaigns_campaign") == set()
    with staff_scope():
        pass
    assert sql_org_ids("campaigns_campaign") == set()


def _run_middleware(user, session=None):
    seen = {}

    def view(request):
        seen["tenant"] = request.tenant
        seen["sql"] = sql_org_ids("campaigns_campaign")
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.user = user
    request.session = session or {}
    TenantMiddleware(view)(request)
    return seen


@pytest.mark.django_db(transaction=True)
def test_middleware_scopes_each_request_to_its_user(
    tenant_rows, alice, bob, charlie, olga, org_a, org_b
):
    assert _run_middleware(alice)["sql"] == {str(org_a.pk)}
    assert _run_middleware(bob)["sql"] == {str(org_b.pk)}
    assert _run_middleware(charlie)["sql"] == set()
    staff = _run_middleware(olga)
    assert staff["tenant"].bypass is True
    assert staff["sql"] == {str(org_a.pk), str(org_b.pk), None}
    # After all of them, the pooled connection is clean.
    assert sql_org_ids("campaigns_campaign") == set()
