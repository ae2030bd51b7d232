"""Cleaning replies (quoted history, signatures, sign-offs) and what is read from them:
return dates in the documented forms, referred contacts."""

from __future__ import annotations

import datetime as dt

import pytest

from messaging.categorise.cleaning import clean_reply
from messaging.categorise.dates import find_return_date
from messaging.categorise.html import html_to_text
from messaging.categorise.referral import find_referral

QUOTED = [
    "On Mon, 2 Dec 2024 at 10:00, Sam Carter <sam@leadloop.io> wrote:\n> Hi, worth a chat?",
    "On Mon, 2 Dec 2024 at 10:00, Sam Carter <\nsam@leadloop.io> wrote:\n\nHi, worth a chat?",
    "Am 02.12.2024 um 10:00 schrieb Sam Carter <sam@leadloop.io>:\n> Hallo, Interesse?",
    "Le lun. 2 déc. 2024 à 10:00, Sam Carter <sam@leadloop.io> a écrit :\n> Bonjour !",
    "El lun, 2 dic 2024 a las 10:00, Sam Carter (<sam@leadloop.io>) escribió:\n> Hola",
    "-----Original Message-----\nFrom: Sam Carter\nSent: Monday\nSubject: Hi\n\nWorth a chat?",
    "-----Ursprüngliche Nachricht-----\nVon: Sam Carter\nBetreff: Hallo\n\nInteresse?",
    "De : Sam Carter <sam@leadloop.io>\nEnvoyé : lundi 2 décembre 2024\nObjet : Bonjour\n\nBonjour",
    "De: Sam Carter <sam@leadloop.io>\nEnviado: lunes\nAsunto: Hola\n\nHola, ¿hablamos?",
    "> Hi, worth a chat?\n> Sam",
    "From: Sam Carter <sam@leadloop.io> Sent: Monday To: Ann Subject: Hi Worth a chat?",
]


@pytest.mark.parametrize("quote", QUOTED)
def test_quoted_history_is_stripped(quote):
    cleaned = clean_reply(f"Not interested, thanks.\n\n{quote}")
    assert cleaned.body == "Not interested, thanks."
    assert "chat" in cleaned.quoted or "Interesse" in cleaned.quoted or cleaned.quoted


def test_interleaved_quote_lines_are_dropped_but_the_answer_kept():
    cleaned = clean_reply("> Are you free on Monday?\nYes, Monday at 10 works.\n> Sam")
    assert cleaned.body == "Yes, Monday at 10 works."


@pytest.mark.parametrize(
    "tail",
    [
        "-- \nAlex Weber\nHead of Sales | Acme\n+49 89 123456",
        "Best regards,\nAlex Weber\nHead of Sales",
        "Mit freundlichen Grüßen\nAlex Weber\nGeschäftsführer",
        "Cordialement,\nAlex Martin\nDirecteur commercial",
        "Un saludo,\nAlex García",
        "Sent from my iPhone",
        "Alex Weber\nHead of Sales | Acme\nwww.acme.com",
    ],
)
def test_signatures_and_sign_offs_are_stripped(tail):
    cleaned = clean_reply(f"Hi Sam,\n\nPlease send me your prices.\n\n{tail}")
    assert cleaned.body == "Hi Sam,\n\nPlease send me your prices."
    assert cleaned.signature


def test_a_thanks_that_is_the_whole_reply_is_kept():
    assert clean_reply("Thanks, not interested.").body == "Thanks, not interested."
    assert clean_reply("Morning,\n\nThanks for reaching out.\nRemove me.").body.endswith(
        "Remove me."
    )


REFERENCE = dt.date(2024, 11, 20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm out of office until 2 Dec.", dt.date(2024, 12, 2)),
        ("Back on December 2nd.", dt.date(2024, 12, 2)),
        ("Returning Dec. 2, 2024.", dt.date(2024, 12, 2)),
        ("I will be back on Monday, December 2.", dt.date(2024, 12, 2)),
        ("Back on the 2nd of December.", dt.date(2024, 12, 2)),
        ("Back 2024-12-02.", dt.date(2024, 12, 2)),
        ("Ich bin ab dem 02.12. wieder im Büro.", dt.date(2024, 12, 2)),
        ("Ich bin bis 2.12.2024 im Urlaub.", dt.date(2024, 12, 2)),
        ("Zurück am 2. Dezember.", dt.date(2024, 12, 2)),
        ("Abwesend bis Montag, den 02.12.", dt.date(2024, 12, 2)),
        ("Je serai de retour le 2 décembre.", dt.date(2024, 12, 2)),
        ("Absent jusqu'au lundi 2 déc.", dt.date(2024, 12, 2)),
        ("De retour le 02/12/2024.", dt.date(2024, 12, 2)),
        ("Absente du 1er décembre au 6 décembre.", dt.date(2024, 12, 6)),
        ("Regreso el 2 de diciembre.", dt.date(2024, 12, 2)),
        ("Estoy fuera hasta el lunes 2 de diciembre de 2024.", dt.date(2024, 12, 2)),
        ("Vuelvo el 2/12.", dt.date(2024, 12, 2)),
        ("Away from 25 Nov to 2 Dec.", dt.date(2024, 12, 2)),
        ("Away until 28 Nov, back on 2 Dec.", dt.date(2024, 12, 2)),
        ("I'm on leave, back next Monday.", dt.date(2024, 11, 25)),
    ],
)
def test_return_dates_in_the_documented_forms(text, expected):
    assert find_return_date(text, REFERENCE) == expected


def test_a_date_without_a_year_is_the_next_one():
    assert find_return_date("Back on 6 January.", dt.date(2024, 12, 20)) == dt.date(2025, 1, 6)
    # A notice left on a few days past its date still means that date.
    assert find_return_date("Back on 2 Dec.", dt.date(2024, 12, 5)) == dt.date(2024, 12, 2)


def test_no_date_no_return_date():
    assert find_return_date("I am on sick leave.", REFERENCE) is None


@pytest.mark.parametrize(
    ("text", "name", "email"),
    [
        ("Please contact Jane Smith (jane.smith@acme.com) instead.", "Jane Smith",
         "jane.smith@acme.com"),
        ("Bitte wenden Sie sich an Frau Weber, weber@firma.de", "Weber", "weber@firma.de"),
        ("Écrivez plutôt à Marc Dubois.", "Marc Dubois", ""),
        ("Escribe a lucia@empresa.es", "", "lucia@empresa.es"),
        ("My colleague Tom Baker handles this: tom.baker@acme.co.uk", "Tom Baker",
         "tom.baker@acme.co.uk"),
        ("Hans Meier ist bei uns zuständig.", "Hans Meier", ""),
    ],
)  # fmt: skip
def test_referral_name_and_email(text, name, email):
    assert find_referral(text).as_dict() == {"name": name, "email": email}


def test_the_senders_own_address_is_not_a_referral():
    assert find_referral("Reply to me at me@acme.com", exclude=("me@acme.com",)) is None


def test_html_replies_become_text_with_their_quotes_marked():
    html = (
        '<div dir="ltr">Please take me off your list.<br><br>Thanks<br>Ann</div>'
        '<div class="gmail_quote">On Mon, Dec 2, 2024 at 9:00 AM Sam &lt;sam@x.io&gt; wrote:'
        "<blockquote>Hi Ann,<br>worth a chat?</blockquote></div><style>p {color: red}</style>"
    )
    text = html_to_text(html)
    assert text.startswith("Please take me off your list.\n\nThanks\nAnn")
    assert "> Hi Ann," in text and "color" not in text
    assert clean_reply(text).body == "Please take me off your list."
