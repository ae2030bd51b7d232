"""`make run` passes its HOST and PORT to seed_demo, which prints where the pages are."""

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_prints_the_address_it_will_be_served_on():
    out = StringIO()
    call_command("seed_demo", "--no-traffic", "--url", "http://127.0.0.1:8011/", stdout=out)
    printed = out.getvalue()
    assert "Customer pages: http://127.0.0.1:8011/ " in printed
    assert "Operator console: http://127.0.0.1:8011/admin/" in printed
    assert ":8000" not in printed
