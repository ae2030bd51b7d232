"""The customer portal's pages (server-rendered, one small module per page)."""

from .campaigns import campaign_detail, campaign_list
from .dashboard import dashboard
from .lead_detail import lead_detail, lead_interest
from .leads import lead_export, lead_list
from .mailboxes import mailbox_list

__all__ = [
    "campaign_detail",
    "campaign_list",
    "dashboard",
    "lead_detail",
    "lead_export",
    "lead_interest",
    "lead_list",
    "mailbox_list",
]
