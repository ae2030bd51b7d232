"""The operator console's own pages (beyond the per-model admin of each app).

They live in `instantly`, the top layer, because they read every app's figures at once
(campaigns, mailboxes, daily stats, activity, alerts, connections); no lower layer imports them.
"""
