"""The Unibox: the emails of each lead's thread, built from its activity.

Campaign emails render the step's variant with the lead's variables; replies and automatic
replies get a text that fits the lead's interest status; manual replies sent through the API
land in the same thread (ue_type 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .common import CampaignData, Clock, html_of, render, text_of

UE_CAMPAIGN, UE_RECEIVED, UE_MANUAL = 1, 2, 3

# Replies by language, then by interest status (None: a plain question). Prospects answer in
# their own language: English, German, French or Spanish, picked per lead from its id.
REPLY_TEXTS = {
    "en": {
        None: "Thanks for reaching out. What does pricing look like for a team of five?",
        1: "Thanks {sender}, this is timely. Could you send a few times for a call on Thursday?",
        0: "I am out of the office until next Monday with limited access to email. For urgent "
        "matters please contact our office.",
        -1: "Not interested, please take me off your list.",
        -2: "I'm not the right person for this, our operations lead handles vendors.",
    },
    "de": {
        None: "Danke für die Nachricht. Was kostet das für ein Team von fünf Personen?",
        1: "Hallo {sender}, das passt gerade gut. Haben Sie am Donnerstag Zeit für ein Gespräch?",
        0: "Ich bin bis Montag nicht im Büro und lese keine E-Mails. In dringenden Fällen "
        "wenden Sie sich bitte an unser Sekretariat.",
        -1: "Kein Interesse, bitte nehmen Sie mich aus Ihrem Verteiler.",
        -2: "Dafür bin ich nicht zuständig, das macht unsere Einkaufsleitung.",
    },
    "fr": {
        None: "Merci pour votre message. Quel serait le tarif pour une équipe de cinq ?",
        1: "Bonjour {sender}, c'est tombé à pic. Pourriez-vous proposer un créneau jeudi ?",
        0: "Je suis absent du bureau jusqu'à lundi prochain. Pour toute urgence, merci de "
        "contacter notre standard.",
        -1: "Pas intéressé, merci de me retirer de votre liste.",
        -2: "Je ne suis pas la bonne personne, voyez plutôt avec notre responsable des achats.",
    },
    "es": {
        None: "Gracias por escribir. ¿Cuál sería el precio para un equipo de cinco personas?",
        1: "Hola {sender}, llega en buen momento. ¿Podemos hablar el jueves?",
        0: "Estoy fuera de la oficina hasta el lunes. Para asuntos urgentes, contacte con "
        "nuestra oficina.",
        -1: "No me interesa, por favor elimíneme de su lista.",
        -2: "No soy la persona adecuada, el responsable de compras lleva estos temas.",
    },
}
LANGUAGES = ("en", "en", "de", "fr", "es")  # English most often


def reply_language(lead_id: str) -> str:
    """The language a lead replies in, fixed by its id (no RNG: the same on every read)."""
    return LANGUAGES[int(lead_id[-2:], 16) % len(LANGUAGES)]


def build_emails(
    data: CampaignData,
    campaign: dict[str, Any],
    accounts: Mapping[str, dict[str, Any]],
    clock: Clock,
) -> list[dict[str, Any]]:
    """A campaign's Unibox rows from its activity, in id (= time) order."""
    steps = campaign["sequences"][0]["steps"]
    first_subjects: dict[str, str] = {}
    rows = []
    for a in data.activity:
        if a.kind not in ("sent", "replied", "auto_replied"):
            continue
        lead, thread_id = data.stories[a.lead_id]
        sender = accounts[a.eaccount]
        variables = {**lead["payload"], "sendingAccountFirstName": sender["first_name"]}
        at = a.at - clock.shift
        if a.kind == "sent":
            template = steps[a.step - 1]["variants"][a.variant - 1]
            subject = render(template["subject"], variables)
            first_subjects.setdefault(a.lead_id, subject)
            html = render(template["body"], variables)
            ue_type, text = UE_CAMPAIGN, text_of(html)
            sent_by, sent_to = a.eaccount, lead["email"]
            subject = subject or f"Re: {first_subjects[a.lead_id]}"
        else:
            interest = lead.get("lt_interest_status")
            texts = REPLY_TEXTS[reply_language(a.lead_id)]
            text = texts[_reply_key(interest, a.kind)].format(sender=sender["first_name"])
            ue_type, html = UE_RECEIVED, html_of(text)
            sent_by, sent_to = lead["email"], a.eaccount
            subject = f"Re: {first_subjects.get(a.lead_id, '')}"
        row = unibox_row(
            a.email_id,
            at,
            campaign,
            lead,
            thread_id,
            ue_type,
            sender=sent_by,
            to=sent_to,
            subject=subject,
            text=text,
            html=html,
            step=a.step,
            clock=clock,
        )
        if ue_type == UE_RECEIVED:
            row["is_auto_reply"] = 1 if a.kind == "auto_replied" else 0
            row["i_status"] = interest
            # About a third of received mail is still unread, chosen by id (no RNG needed).
            row["is_unread"] = 1 if a.email_id[-1] in "012345" else 0
        rows.append(row)
    rows.sort(key=lambda e: e["id"])
    return rows


def unibox_row(
    email_id: str,
    at: datetime,
    campaign: dict[str, Any],
    lead: dict[str, Any],
    thread_id: str,
    ue_type: int,
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    step: int | None,
    clock: Clock,
) -> dict[str, Any]:
    """One Unibox email as GET /emails lists it; `at` is anchor-relative."""
    ts = clock.ts(at)
    return {
        "id": email_id,
        "timestamp_created": ts,
        "timestamp_email": ts,
        "message_id": f"<{email_id}@{sender.split('@')[1]}>",
        "subject": subject,
        "from_address_email": sender,
        "to_address_email_list": to,
        "cc_address_email_list": None,
        "body": {"text": text, "html": html},
        "content_preview": text[:100],
        "organization_id": campaign["organization"],
        "campaign_id": campaign["id"],
        "subsequence_id": None,
        "lead": lead["email"],
        "lead_id": lead["id"],
        "eaccount": sender if ue_type != UE_RECEIVED else to,
        "ue_type": ue_type,
        # Instantly's type for this field is unconfirmed; sent as text like other ids.
        "step": None if step is None else str(step),
        "is_unread": 0,
        "is_auto_reply": 0,
        "i_status": None,
        "thread_id": thread_id,
    }


def _reply_key(interest: int | None, kind: str) -> int | None:
    if kind == "auto_replied":
        return 0
    if interest in (1, 2, 3, 4, -3, -4, 101):  # 101: the positive custom label
        return 1
    return interest if interest in REPLY_TEXTS["en"] else None
