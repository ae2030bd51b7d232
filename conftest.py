"""Test set-up shared by every app: the database, and fixtures for the personas and rows that
`testkit` builds (each builder's docstring says who the persona is).

The test database is created and migrated as the owner role (like `manage.py migrate`); every
test then runs on the application role, which row-level security binds, so isolation tests
cannot pass vacuously.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import override_settings, setup_databases, teardown_databases

import testkit
from accounts import auth_cache
from accounts.db import as_owner


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    """pytest-django's set-up, run as the owner (xdist workers each get their own database)."""
    with django_db_blocker.unblock():
        with as_owner("default"):
            db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    yield
    with django_db_blocker.unblock():
        with as_owner("default"):
            _end_other_sessions()
            teardown_databases(db_cfg, verbosity=0)


def _end_other_sessions() -> None:
    """End the sessions that servers started by tests left open on the test database (a live
    server's feed listener, a worker's pool), or dropping it fails with "being accessed by
    other users"."""
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )


@pytest.fixture(autouse=True)
def _auth_cache(request):
    """The per-process authentication cache (`accounts.auth_cache`) is off in tests unless
    marked `auth_cache`: a test may change a membership or a token behind the signals (an
    `update()`) and expect the next request to see it, and query counts stay those of the
    request itself. The tests of the cache turn it on with the mark."""
    auth_cache.clear()
    if request.node.get_closest_marker("auth_cache"):
        yield
    else:
        with override_settings(API_AUTH_CACHE_SECONDS=0):
            yield
    auth_cache.clear()


@pytest.fixture
def org_a(db):
    return testkit.make_org_a()


@pytest.fixture
def org_b(db):
    return testkit.make_org_b()


@pytest.fixture
def alice(org_a):
    return testkit.make_alice(org_a)


@pytest.fixture
def victor(org_a):
    return testkit.make_victor(org_a)


@pytest.fixture
def bob(org_b):
    return testkit.make_bob(org_b)


@pytest.fixture
def charlie(db):
    return testkit.make_charlie()


@pytest.fixture
def olga(db):
    return testkit.make_olga()


@pytest.fixture
def adam(db):
    return testkit.make_adam()


@pytest.fixture
def shared_connection(db):
    return testkit.make_shared_connection()


@pytest.fixture
def tenant_rows(org_a, org_b, shared_connection):
    return testkit.make_tenant_rows(org_a, org_b, shared_connection)
