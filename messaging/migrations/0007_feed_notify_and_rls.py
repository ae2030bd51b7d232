"""Row-level security on the new tables, and the trigger that announces feed lines.

`pg_notify` inside the inserting transaction is delivered only when it commits (and never if
it rolls back), so a listener hears of a line exactly when it can read it. The payload names
the row and its organization only; listeners read the row, so nothing large crosses NOTIFY's
8000-byte limit."""

from django.db import migrations

from accounts.rls import enable_rls

FEED_CHANNEL = "salesbrain_feed"

NOTIFY_SQL = f"""
CREATE FUNCTION messaging_feedevent_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify(
        '{FEED_CHANNEL}',
        json_build_object('id', NEW.id, 'org', NEW.organization_id)::text
    );
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER messaging_feedevent_notify AFTER INSERT ON messaging_feedevent
    FOR EACH ROW WHEN (NEW.organization_id IS NOT NULL)
    EXECUTE FUNCTION messaging_feedevent_notify();
"""
REVERSE_SQL = """
DROP TRIGGER IF EXISTS messaging_feedevent_notify ON messaging_feedevent;
DROP FUNCTION IF EXISTS messaging_feedevent_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("messaging", "0006_notification_delivery_and_feed")]

    operations = [
        enable_rls("messaging_notificationread"),
        enable_rls("messaging_notificationpreference"),
        enable_rls("messaging_slackwebhook"),
        enable_rls("messaging_deliveryattempt"),
        enable_rls("messaging_feedevent"),
        migrations.RunSQL(NOTIFY_SQL, REVERSE_SQL),
    ]
