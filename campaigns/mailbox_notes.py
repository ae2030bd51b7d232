"""A hook for what a higher layer knows about a customer's mailboxes (the agency's alerts live
in `instantly`, above this app): the mailboxes page asks, `instantly` answers from its
AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable, Iterable

NoteProvider = Callable[[Iterable[int]], dict[int, str]]
_providers: list[NoteProvider] = []


def register_mailbox_note(provider: NoteProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def notes_for(mailbox_ids: Iterable[int]) -> dict[int, str]:
    """A short sentence per mailbox that has one (the first provider's wins)."""
    ids = list(mailbox_ids)
    notes: dict[int, str] = {}
    for provider in _providers:
        for mailbox_id, text in provider(ids).items():
            notes.setdefault(mailbox_id, text)
    return notes
