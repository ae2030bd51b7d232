"""The categoriser on literal replies: every category in every language, written here (not
taken from the corpus), with greetings, signatures and quoted pitches as real replies have."""

from __future__ import annotations

import datetime as dt

import pytest

from messaging.categorise.categoriser import Categoriser

PITCH_EN = (
    "On Tue, 3 Dec 2024 at 09:12, Sam Carter <sam@leadloop.io> wrote:\n"
    "> Hi Alex, we help agencies book more meetings. Worth a chat?\n> Sam"
)
PITCH_DE = (
    "Am 03.12.2024 um 09:12 schrieb Sam Carter <sam@leadloop.io>:\n"
    "> Hallo Alex, wir helfen Agenturen, mehr Termine zu buchen. Interesse?"
)
PITCH_FR = (
    "Le mar. 3 déc. 2024 à 09:12, Sam Carter <sam@leadloop.io> a écrit :\n"
    "> Bonjour Alex, nous aidons les agences à obtenir plus de rendez-vous."
)
PITCH_ES = (
    "El mar, 3 dic 2024 a las 9:12, Sam Carter (<sam@leadloop.io>) escribió:\n"
    "> Hola Alex, ayudamos a agencias a conseguir más reuniones."
)

REPLIES = [
    # (language, category, subject, text)
    (
        "en",
        "interested",
        "Re: more meetings",
        f"Hi Sam,\n\nThis is really interesting, we'd like to go ahead.\n\nBest,\nAlex\n\n{PITCH_EN}",
    ),
    (
        "en",
        "meeting_request",
        "Re: more meetings",
        f"Sam - happy to talk. Are you free Thursday at 3pm for a quick call?\n\n{PITCH_EN}",
    ),
    (
        "en",
        "information_request",
        "Re: more meetings",
        "Hi Sam, what would this cost us per month, and do you have clients in retail?\nAlex",
    ),
    (
        "en",
        "not_interested",
        "Re: more meetings",
        f"Thanks Sam, but we're not looking for this right now.\n\nCheers\nAlex\n\n{PITCH_EN}",
    ),
    (
        "en",
        "do_not_contact",
        "Re: more meetings",
        "Please remove me from your mailing list and do not email me again.",
    ),
    (
        "en",
        "out_of_office",
        "Automatic reply: more meetings",
        "Thank you for your email. I am out of the office until 2 Dec and will reply on my "
        "return.\n\nAlex",
    ),
    (
        "en",
        "wrong_person",
        "Re: more meetings",
        "I'm not the right person for this - please contact Jane Doe (jane.doe@acme.com).",
    ),
    (
        "en",
        "auto_reply",
        "We've received your message",
        "Thanks for contacting Acme Support. This is an automated response: your ticket number "
        "is 48213 and we will get back to you within 24 hours.",
    ),
    (
        "en",
        "bounce",
        "Delivery Status Notification (Failure)",
        "Address not found\n\nYour message wasn't delivered to alex@acme.com because the address "
        "couldn't be found.\n\n550 5.1.1 The email account that you tried to reach does not exist.",
    ),
    (
        "de",
        "interested",
        "AW: Termine",
        f"Hallo Sam,\n\nklingt sehr gut, wir würden das gern umsetzen.\n\nViele Grüße\nAlex\n\n{PITCH_DE}",
    ),
    (
        "de",
        "meeting_request",
        "AW: Termine",
        "Hallo Sam, lassen Sie uns am Donnerstag um 15 Uhr telefonieren. Passt Ihnen das?",
    ),
    (
        "de",
        "information_request",
        "AW: Termine",
        f"Guten Tag, was kostet das im Monat und gibt es eine Testphase?\n\n{PITCH_DE}",
    ),
    (
        "de",
        "not_interested",
        "AW: Termine",
        "Danke, aber wir haben aktuell keinen Bedarf.\n\nMit freundlichen Grüßen\nAlex Weber",
    ),
    (
        "de",
        "do_not_contact",
        "AW: Termine",
        "Bitte entfernen Sie mich aus Ihrem Verteiler und schreiben Sie mir nicht mehr.",
    ),
    (
        "de",
        "out_of_office",
        "Abwesenheitsnotiz: Termine",
        "Vielen Dank für Ihre Nachricht. Ich bin bis zum 02.12. nicht im Büro. Ihre Nachricht "
        "wird nicht weitergeleitet.",
    ),
    (
        "de",
        "wrong_person",
        "AW: Termine",
        "Ich bin dafür nicht zuständig. Bitte wenden Sie sich an Frau Weber, weber@firma.de.",
    ),
    (
        "de",
        "auto_reply",
        "Eingangsbestätigung",
        "Vielen Dank für Ihre Anfrage. Dies ist eine automatisch generierte Nachricht, wir melden "
        "uns innerhalb von 48 Stunden.",
    ),
    (
        "de",
        "bounce",
        "Unzustellbar: Termine",
        "Die Nachricht konnte an folgende Empfänger nicht zugestellt werden: alex@firma.de\n"
        "Remote Server returned '550 5.1.1 User unknown'",
    ),
    (
        "fr",
        "interested",
        "RE: rendez-vous",
        f"Bonjour Sam,\n\nC'est tout à fait ce qu'il nous faut, nous sommes partants.\n\n"
        f"Cordialement,\nAlex\n\n{PITCH_FR}",
    ),
    (
        "fr",
        "meeting_request",
        "RE: rendez-vous",
        "Bonjour, pouvons-nous nous appeler jeudi à 15h ? Envoyez-moi une invitation.",
    ),
    (
        "fr",
        "information_request",
        "RE: rendez-vous",
        f"Bonjour, quel est le tarif mensuel et avez-vous des références ?\n\n{PITCH_FR}",
    ),
    (
        "fr",
        "not_interested",
        "RE: rendez-vous",
        "Merci, mais ce n'est pas le moment pour nous.\n\nBien à vous,\nAlex",
    ),
    (
        "fr",
        "do_not_contact",
        "RE: rendez-vous",
        "Merci de me désinscrire et de ne plus me contacter.",
    ),
    (
        "fr",
        "out_of_office",
        "Réponse automatique : rendez-vous",
        "Bonjour, je suis absente du bureau jusqu'au 2 décembre inclus. Je traiterai votre "
        "message à mon retour.",
    ),
    (
        "fr",
        "wrong_person",
        "RE: rendez-vous",
        "Je ne suis pas la bonne personne. Écrivez plutôt à Marc Dubois, marc.dubois@exemple.fr.",
    ),
    (
        "fr",
        "auto_reply",
        "Accusé de réception",
        "Nous avons bien reçu votre message. Ceci est une réponse automatique, merci de ne pas "
        "répondre.",
    ),
    (
        "fr",
        "bounce",
        "Non remis : rendez-vous",
        "Votre message n'a pas pu être remis à alex@exemple.fr.\n550 5.1.1 Destinataire inconnu",
    ),
    (
        "es",
        "interested",
        "RE: reuniones",
        f"Hola Sam,\n\nnos interesa mucho, queremos seguir adelante.\n\nUn saludo,\nAlex\n\n{PITCH_ES}",
    ),
    (
        "es",
        "meeting_request",
        "RE: reuniones",
        "Hola, ¿podemos hablar el jueves a las 15:00? Envíame una invitación.",
    ),
    (
        "es",
        "information_request",
        "RE: reuniones",
        f"Buenos días, ¿cuánto cuesta al mes y tenéis clientes en retail?\n\n{PITCH_ES}",
    ),
    (
        "es",
        "not_interested",
        "RE: reuniones",
        "Gracias, pero ahora mismo no nos interesa.\n\nSaludos,\nAlex",
    ),
    (
        "es",
        "do_not_contact",
        "RE: reuniones",
        "Por favor, dadme de baja de vuestra lista y no me escribáis más.",
    ),
    (
        "es",
        "out_of_office",
        "Respuesta automática: reuniones",
        "Gracias por su mensaje. Estoy fuera de la oficina hasta el 2 de diciembre. Responderé a "
        "su correo a mi regreso.",
    ),
    (
        "es",
        "wrong_person",
        "RE: reuniones",
        "No soy la persona adecuada. Contacta con Lucía Gómez: lucia.gomez@empresa.es.",
    ),
    (
        "es",
        "auto_reply",
        "Acuse de recibo",
        "Hemos recibido su correo. Este es un mensaje automático, por favor no responda a este "
        "mensaje.",
    ),
    (
        "es",
        "bounce",
        "No se puede entregar: reuniones",
        "No se pudo entregar el mensaje a alex@empresa.es.\n550 5.1.1 Destinatario desconocido",
    ),
]


@pytest.fixture(scope="module")
def categoriser():
    return Categoriser()


@pytest.mark.parametrize(
    ("language", "category", "subject", "text"),
    REPLIES,
    ids=[f"{lang}-{cat}" for lang, cat, _, _ in REPLIES],
)
def test_each_category_in_each_language(categoriser, language, category, subject, text):
    result = categoriser.categorise(subject, text, reference_date=dt.date(2024, 11, 20))
    assert result.category == category, result
    assert 0.0 <= result.confidence <= 1.0


def test_every_category_and_language_is_covered():
    assert {(lang, cat) for lang, cat, _, _ in REPLIES} == {
        (lang, cat)
        for lang in ("en", "de", "fr", "es")
        for cat in {cat for _, cat, _, _ in REPLIES}
    }
    assert len({cat for _, cat, _, _ in REPLIES}) == 9


def test_out_of_office_yields_its_return_date(categoriser):
    result = categoriser.categorise(
        "Automatic reply", "I'm out of the office, back on December 2nd. I will reply then.",
        reference_date=dt.date(2024, 11, 20),
    )  # fmt: skip
    assert (result.category, result.returns_on) == ("out_of_office", dt.date(2024, 12, 2))


def test_referral_inside_an_out_of_office_stays_out_of_office(categoriser):
    result = categoriser.categorise(
        "Out of Office",
        "I am on annual leave until 2 Dec. For urgent matters please contact Jane Doe at "
        "jane@acme.com. I will respond upon my return.",
        reference_date=dt.date(2024, 11, 25),
    )
    assert result.category == "out_of_office"
    assert result.returns_on == dt.date(2024, 12, 2)


def test_wrong_person_yields_the_referred_contact(categoriser):
    result = categoriser.categorise(
        "Re: hi", "I left Acme in May. My successor is Tom Baker, tom.baker@acme.com."
    )
    assert result.category == "wrong_person"
    assert result.referral.as_dict() == {"name": "Tom Baker", "email": "tom.baker@acme.com"}


def test_a_polite_not_now_is_not_interested(categoriser):
    result = categoriser.categorise(
        "Re: idea", "Thanks for thinking of us! Not right now, but feel free to check back next "
        "year.",
    )  # fmt: skip
    assert result.category == "not_interested"


def test_a_bounce_quoting_the_original_email_is_a_bounce(categoriser):
    text = (
        "This message was created automatically by mail delivery software.\n\nA message that "
        "you sent could not be delivered to one or more of its recipients. This is a permanent "
        "error. The following address(es) failed:\n\n  ana@acme.com\n    550 5.1.1 User unknown"
        "\n\n------ This is a copy of the message, including all the headers. ------\n"
        "Subject: Quick question\n\nHi Ana, are you interested in a quick call next week? "
        "Let me know if you want pricing."
    )
    result = Categoriser().categorise("Mail delivery failed", text)
    assert (result.category, result.source) == ("bounce", "rule")


def test_a_polite_unsubscribe_is_do_not_contact(categoriser):
    result = categoriser.categorise(
        "Re: hello", "Hi Sam, hope you're well. Would you mind taking me off your list? Many "
        "thanks and all the best.",
    )  # fmt: skip
    assert result.category == "do_not_contact"


def test_the_answer_has_the_contract_shape(categoriser):
    out = categoriser.categorise("Out of office", "Ich bin bis 02.12. im Urlaub.",
                                 reference_date=dt.date(2024, 11, 20)).as_dict()  # fmt: skip
    assert out == {"category": "out_of_office", "confidence": out["confidence"],
                   "returns_on": "2024-12-02"}  # fmt: skip


def test_an_html_only_reply_is_read_from_its_html(categoriser):
    result = categoriser.categorise(
        "Re: hi", "", html="<p>Bitte nehmen Sie mich aus Ihrem Verteiler.</p>"
        "<blockquote>Hallo, Interesse an einem Termin?</blockquote>",
    )  # fmt: skip
    assert result.category == "do_not_contact"
