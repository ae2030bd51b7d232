"""The customer portal's pages (server-rendered, one small module per page)."""

from .campaigns import campaign_detail, campaign_list
from .dashboard import dashboard
from .leads import lead_export, lead_list
from .mailboxes import mailbox_list

__all__ = [
    "campaign_detail",
    "campaign_list",
    "dashboard",
    "lead_export",
    "lead_list",
    "mailbox_list",
]
