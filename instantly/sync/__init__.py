"""Mirror one Instantly workspace into the `campaigns` models.

What is mirrored: the workspace's id and name, every sending mailbox, every campaign (with its
schedule, sequences and senders), each campaign's analytics totals, daily rows and per-step
rows, and each mailbox's daily figures, always with the provider's raw JSON kept beside.

How, so that it is cheap and safe to run every few minutes:
- Idempotent: every row is compared with what is stored and written only when it differs, in
  bulk; a second run over the same data writes nothing and reports everything unchanged.
- Nothing is deleted: a campaign or mailbox no longer listed gets `vanished_at`, cleared again if
  it comes back. Campaigns of the shared workspace stay unassigned (organization NULL) until
  staff assign them (`campaigns.assignment`), and no sync ever moves them; a dedicated
  connection's rows belong to its organization.
- Few requests: campaign totals are asked for 100 ids at a time, and a campaign's daily and step
  figures are fetched again only when its totals changed (or with `full=True`); after the first
  sync, daily figures are re-read from two days before the last successful one only. Requests
  run in a small thread pool while the main thread writes; the shared rate limiter keeps every
  thread under Instantly's budget.
- Short transactions: HTTP happens outside the database; each write batch opens its own
  `staff_scope()` (the sync works across organizations and on the shared workspace's NULL rows).

One job per module:
- `run`: `sync_workspace`, the loop that overlaps fetching and writing, the advisory lock;
- `fetch`: what is asked of the client, and which campaigns' figures need asking at all;
- `values`: Instantly's objects as our column values (no database);
- `write`: `WorkspaceWriter`, which compares and writes through `salesbrain.bulk`;
- `transfer`: a workspace as a file (`export_workspace`, `import_workspace`);
- `results`: `SyncResult` and its counts.

The names below are the package's entry points, for callers that want the whole of it.
"""

from .results import Counts, SyncResult
from .run import DEFAULT_CONCURRENCY, SyncAlreadyRunning, sync_workspace
from .transfer import export_workspace, import_workspace
from .write import WorkspaceMismatchError

__all__ = (
    "DEFAULT_CONCURRENCY",
    "Counts",
    "SyncAlreadyRunning",
    "SyncResult",
    "WorkspaceMismatchError",
    "export_workspace",
    "import_workspace",
    "sync_workspace",
)
