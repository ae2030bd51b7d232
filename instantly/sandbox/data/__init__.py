"""A generated, deterministic Instantly workspace: the data behind the local sandbox.

Demos and end-to-end tests need a workspace that looks like real Instantly traffic (every status
code, multi-step sequences, opens, replies, bounces) and comes out the same on every run, so
everything derives from one seed. One module per thing generated: `accounts` (the workspace and
its sending mailboxes), `campaigns`, `leads` (each lead and its activity log), `emails` (the
Unibox), `analytics` (tallies of the activity), `subscriptions` (webhooks); `workspace` holds
them together and `common` has what they share (time anchor, ids, the activity record).
"""

from .common import ANCHOR, HISTORY_DAYS, Activity, NotFound, parse_date
from .workspace import SandboxWorkspace

__all__ = ["ANCHOR", "HISTORY_DAYS", "Activity", "NotFound", "SandboxWorkspace", "parse_date"]
