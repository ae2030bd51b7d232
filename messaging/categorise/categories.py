"""The nine reply categories, the one vocabulary shared by the categoriser, storage and the API.

What each means (the corpus is labelled by these definitions):
- `interested`: a positive answer that neither books a meeting nor asks a question.
- `meeting_request`: asks for, accepts or proposes a call, meeting or demo.
- `information_request`: asks a question or for material before deciding.
- `not_interested`: declines, including a polite "not now" and "we already have someone".
- `do_not_contact`: asks to be removed, unsubscribed or never emailed again.
- `out_of_office`: an absence notice (holiday, leave, travel), with or without a return date.
- `wrong_person`: not the right contact or no longer there, often naming who to write to.
- `auto_reply`: any other automatic answer (ticket receipts, unmonitored mailboxes).
- `bounce`: a delivery failure notice from a mail server.
"""

from __future__ import annotations

from django.db import models


class ReplyCategory(models.TextChoices):
    INTERESTED = "interested", "Interested"
    MEETING_REQUEST = "meeting_request", "Meeting request"
    INFORMATION_REQUEST = "information_request", "Information request"
    NOT_INTERESTED = "not_interested", "Not interested"
    DO_NOT_CONTACT = "do_not_contact", "Do not contact"
    OUT_OF_OFFICE = "out_of_office", "Out of office"
    WRONG_PERSON = "wrong_person", "Wrong person"
    AUTO_REPLY = "auto_reply", "Automatic reply"
    BOUNCE = "bounce", "Bounce"


CATEGORIES: tuple[str, ...] = tuple(ReplyCategory.values)
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es")
