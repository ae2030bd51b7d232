"""The one test-data builder: personas, rows, datasets and clients, for every app's tests.

It sits outside the runtime packages so that no runtime module can import it, and it may
import every app. The root `conftest.py` turns its builders into fixtures; tests import the
rest from here (`from testkit import ...`), never from another app's tests.

- `personas`: the organizations A and B and the six personas (alice, victor, bob, charlie,
  olga, adam).
- `rows`: one builder per row (connection, campaign, contact, thread, message, webhook event).
- `clients`: API clients per persona, what each persona is answered, query counts.
- `console`: one row of every model the operator console shows, and its page walks.
- `api_data`: `build_dataset`, small and exact, for the API tests.
- `portal_data`: `build_org_dataset`, two months of realistic data for pages and screenshots.
"""

from testkit.api_data import DAY, Dataset, build_dataset
from testkit.clients import (
    CUSTOMERS,
    PERSONAS,
    STAFF,
    count_queries,
    expected_status,
    key_client,
    persona_client,
    results,
    token_client,
)
from testkit.console import (
    assert_console_pages_load,
    make_console_rows,
    messages_of,
    registered_models,
)
from testkit.personas import (
    PASSWORD,
    make_adam,
    make_alice,
    make_bob,
    make_charlie,
    make_member,
    make_olga,
    make_org_a,
    make_org_b,
    make_user,
    make_victor,
)
from testkit.portal_data import OrgDataset, build_org_dataset
from testkit.rows import (
    SHARED_API_KEY,
    make_campaign,
    make_connection,
    make_contact,
    make_feed_event,
    make_message,
    make_notification,
    make_shared_connection,
    make_tenant_rows,
    make_thread,
    make_webhook_event,
)

__all__ = [
    "CUSTOMERS",
    "DAY",
    "PASSWORD",
    "PERSONAS",
    "SHARED_API_KEY",
    "STAFF",
    "Dataset",
    "OrgDataset",
    "assert_console_pages_load",
    "build_dataset",
    "build_org_dataset",
    "count_queries",
    "expected_status",
    "key_client",
    "make_adam",
    "make_alice",
    "make_bob",
    "make_campaign",
    "make_charlie",
    "make_connection",
    "make_console_rows",
    "make_contact",
    "make_feed_event",
    "make_notification",
    "make_member",
    "make_message",
    "make_olga",
    "make_org_a",
    "make_org_b",
    "make_shared_connection",
    "make_tenant_rows",
    "make_thread",
    "make_user",
    "make_victor",
    "make_webhook_event",
    "messages_of",
    "persona_client",
    "registered_models",
    "results",
    "token_client",
]
