"""Rules for the replies a machine wrote, where a phrase is surer than a model.

Mail servers and autoresponders speak in a few fixed formulas (RFC 3464 delivery reports,
"Undeliverable:", "Automatische Antwort:", "Je suis absent"), so bounces, absence notices and
automatic receipts are recognised by those formulas. A rule answers only when its evidence is
unambiguous; everything else goes to the model. All patterns run on folded text (lower case,
no accents).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .categories import ReplyCategory
from .text import fold


def _any(*phrases: str) -> re.Pattern:
    return re.compile(r"(?:" + "|".join(phrases) + r")")


# --- Bounces ---------------------------------------------------------------------------------
_BOUNCE_SUBJECT = _any(
    r"undeliver(?:ed|able)",
    r"delivery status notification",
    r"delivery (?:failure|has failed|incomplete|notification)",
    r"mail delivery (?:failed|failure|subsystem|system)",
    r"returned mail",
    r"returned to sender",
    r"failure notice",
    r"non-?deliver(?:y|able)",
    r"message not delivered",
    r"(?:could ?n[o']t|could not|cannot) be delivered",
    r"unzustellbar",
    r"nicht zustellbar",
    r"ruckläufer|rucklaufer",
    r"zustellung fehlgeschlagen",
    r"non remis",
    r"non distribu",
    r"echec de (?:la )?(?:remise|distribution)",
    r"notification d'etat de (?:la )?remise",
    r"no se puede entregar",
    r"no entregado",
    r"error de entrega",
    r"notificacion de estado de entrega",
    r"correo devuelto",
)
_BOUNCE_STRONG = _any(
    r"mailer-daemon",
    r"\bpostmaster@",
    r"diagnostic-code",
    r"final-recipient",
    r"\b5[0-5]\d[ -]#?5\.\d{1,3}\.\d{1,3}\b",
    r"\bstatus: 5\.\d",
    r"\b5\.[1-7]\.\d{1,2}\b.{0,80}(?:user|recipient|mailbox|address|empfanger|destinataire|"
    r"destinatario|does not exist|unknown|rejected|not found)",
)
_BOUNCE_PHRASES = _any(
    r"delivery to the following recipients? (?:failed|has been delayed)",
    r"delivery has failed to these recipients",
    r"the following (?:address|recipient)e?s? (?:failed|had permanent fatal errors)",
    r"your message (?:wasn't|was not|couldn't be|could not be) delivered",
    r"message (?:wasn't|was not|could not be) delivered",
    r"address (?:not found|couldn't be found|could not be found|rejected)",
    r"(?:user|recipient|mailbox) (?:unknown|not found|unavailable|does not exist|is full)",
    r"no such (?:user|mailbox|recipient)",
    r"recipient (?:address )?rejected",
    r"(?:account|address|mailbox) (?:that you tried to reach )?does not exist",
    r"remote server returned",
    r"smtp error",
    r"permanent (?:failure|error)",
    r"returned to sender",
    r"undeliverable",
    r"konnte nicht (?:an \S+ )?zugestellt werden",
    r"nicht zugestellt werden",
    r"zustellung (?:an folgende empfanger )?(?:ist )?fehlgeschlagen",
    r"empfanger(?:adresse)? (?:nicht gefunden|unbekannt|existiert nicht)",
    r"unzustellbar",
    r"n'a pas pu etre (?:remis|distribue|livre)",
    r"adresse (?:introuvable|inconnue)",
    r"destinataire (?:inconnu|introuvable)",
    r"la remise (?:a|au destinataire a) echoue",
    r"echec de (?:la )?remise",
    r"no se (?:ha )?(?:pudo|podido) entregar",
    r"no se pudo enviar",
    r"direccion (?:no encontrada|desconocida)",
    r"destinatario (?:desconocido|no encontrado)",
    r"(?:buzon|casilla) (?:lleno|no existe|no disponible)",
    r"error permanente",
)

# --- Absence ---------------------------------------------------------------------------------
_AUTO_SUBJECT = _any(
    r"^\W*(?:re: ?)?(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|autoreply",
    r"automatische antwort|abwesenheitsnotiz|abwesenheit|abwesend|out of (?:the )?office|ooo\b",
    r"reponse automatique|absence|absent|respuesta automatica|fuera de la oficina|ausente",
    r"respuesta de ausencia|urlaub|vacation|holiday|conges|vacaciones)",
)
_ABSENCE = _any(
    r"out of (?:the )?office",
    r"\booo\b",
    r"on (?:annual |parental |maternity |paternity |sick |medical |study )?leave",
    r"on (?:vacation|holiday|holidays|sabbatical|a business trip|business travel)",
    r"(?:currently |presently )?away (?:from (?:the office|my desk|work)|on|until|till)",
    r"(?:i am|i'm|i will be|i'll be) (?:currently )?(?:away|travell?ing|off|out)\b",
    r"limited (?:access to (?:my )?e-?mails?|e-?mail access)",
    r"no access to (?:my )?e-?mails?",
    r"not (?:be )?in the office",
    r"abwesend",
    r"nicht im (?:buro|haus|office)",
    r"ausser haus",
    r"im urlaub",
    r"in (?:elternzeit|mutterschutz|karenz)",
    r"urlaubsbedingt",
    r"krankheitsbedingt",
    r"auf (?:geschafts)?reisen?",
    r"dienstreise",
    r"nicht erreichbar",
    r"(?:keinen|eingeschrankten) zugriff auf (?:meine )?e-?mails?",
    r"\bje suis (?:actuellement )?(?:absente?|en conges?|en vacances|en deplacement)",
    r"\babsente?\b",
    r"en conges?\b",
    r"en vacances",
    r"hors du bureau",
    r"en deplacement",
    r"conge (?:maternite|paternite|parental|maladie)",
    r"acces (?:limite|restreint) (?:a mes|aux) (?:e-?mails|courriels|messages)",
    r"fuera de la oficina",
    r"de vacaciones",
    r"\bausente\b",
    r"de (?:baja|permiso|viaje)",
    r"acceso limitado (?:a|al) (?:mi )?correo",
    r"no estare disponible",
    r"sin acceso (?:a|al) (?:mi )?correo",
)
# Autoresponder formulas: what no person writes in a reply to a cold email.
_AUTORESPONDER = _any(
    r"upon my return",
    r"on my return",
    r"when i(?:'m| am) back",
    r"when i return",
    r"as soon as (?:possible|i(?:'m| am) back|i return)",
    r"(?:will|shall) (?:reply|respond|get back to you|answer|read)",
    r"for (?:urgent|immediate|pressing) (?:matters|requests|issues|inquiries|enquiries|questions)",
    r"if (?:your (?:matter|request|query) is |it(?:'s| is) )?urgent",
    r"(?:e-?mails?|messages?) (?:will not|won't) be (?:forwarded|read)",
    r"thank you for your (?:e-?mail|message)",
    r"thanks for your (?:e-?mail|message)",
    r"nach meiner ruckkehr",
    r"ab dem .{0,20}wieder",
    r"(?:bin|ist) (?:ab|am) .{0,25}wieder",
    r"in dringenden fallen",
    r"bei dringenden (?:anliegen|fragen|angelegenheiten)",
    r"wird nicht weitergeleitet",
    r"werden nicht weitergeleitet",
    r"vielen dank fur ihre (?:nachricht|e-?mail)",
    r"danke fur ihre (?:nachricht|e-?mail)",
    r"(?:ich werde|werde ich) .{0,40}(?:beantworten|antworten|melden)",
    r"a mon retour",
    r"des mon retour",
    r"en cas d'urgence",
    r"pour toute (?:urgence|demande urgente)",
    r"ne sera pas transfere",
    r"ne seront pas transferes",
    r"merci (?:pour|de) votre (?:message|e-?mail|courriel)",
    r"je (?:vous )?repondrai",
    r"je traiterai",
    r"a mi (?:regreso|vuelta)",
    r"cuando (?:regrese|vuelva)",
    r"para (?:asuntos|temas|consultas) urgentes",
    r"en caso de urgencia",
    r"no (?:sera|seran) reenviad",
    r"gracias por su (?:mensaje|correo)",
    r"gracias por tu (?:mensaje|correo)",
    r"(?:respondere|contestare) (?:a su|su|tu|a tu)",
)
# Someone has left: that is a `wrong_person` reply even when a machine sends it.
_DEPARTED = _any(
    r"no longer (?:with|at|work|employed|part of|in the company)",
    r"(?:has|have) left (?:the|our) (?:company|organi[sz]ation|firm|business|team)",
    r"(?:i|he|she) left (?:the|our) (?:company|organi[sz]ation|firm)",
    r"nicht mehr (?:bei|im unternehmen|fur|in unserem|tatig|beschaftigt|im hause)",
    r"(?:hat|haben) (?:das unternehmen|die firma|uns) verlassen",
    r"ne fait plus partie",
    r"n'(?:est|travaille) plus (?:chez|au sein|dans|avec|pour)",
    r"(?:a|ai) quitte (?:l'entreprise|la societe|la soci|l'organisation|nos effectifs)",
    r"ya no (?:trabaja|forma parte|esta en|pertenece)",
    r"(?:dejo|deje|ha dejado) la (?:empresa|compania|organizacion)",
)

# --- Other automatic replies -----------------------------------------------------------------
_AUTOMATED = _any(
    r"this is an? (?:automated|automatic|auto-generated)",
    r"(?:automated|automatic|auto-generated) (?:message|response|reply|notification|e-?mail)",
    r"(?:do not|don't|please don't|please do not) reply to this",
    r"this (?:mailbox|inbox|address|e-?mail address) is (?:not|no longer|un)monitored",
    r"this (?:mailbox|inbox|address) is not (?:being )?(?:monitored|checked|read)",
    r"\bticket (?:number|id|#|no)",
    r"\[?(?:ticket|case|request|incident) ?#\s?\w+",
    r"we (?:have|'ve) received your (?:e-?mail|message|request|enquiry|inquiry)",
    r"your (?:request|message|e-?mail) has been received",
    r"we(?:'ll| will) (?:get back to you|respond|reply) within",
    r"automatisch (?:generiert|erstellt|versendet|versandt)",
    r"automatische (?:nachricht|antwort|benachrichtigung|eingangsbestatigung)",
    r"eingangsbestatigung",
    r"bitte antworten sie nicht auf",
    r"(?:ihre|deine) (?:nachricht|anfrage|e-?mail) (?:ist|wurde) .{0,30}eingegangen",
    r"wir (?:haben|habe) ihre (?:nachricht|anfrage|e-?mail) erhalten",
    r"postfach wird nicht (?:uberwacht|gelesen|betreut)",
    r"message (?:est |a ete )?(?:genere|envoye) automatiquement",
    r"(?:reponse|message) automatique",
    r"merci de ne pas repondre",
    r"accuse de reception",
    r"nous avons (?:bien )?recu votre (?:message|e-?mail|demande|courriel)",
    r"(?:cette|cet) (?:adresse|boite)[^.]{0,30} n'est pas (?:surveillee|consultee|lue)",
    r"mensaje (?:automatico|generado automaticamente)",
    r"respuesta automatica",
    r"no (?:responda|conteste) a este",
    r"acuse de recibo",
    r"hemos recibido (?:su|tu) (?:mensaje|correo|solicitud|consulta)",
    r"(?:este )?(?:buzon|correo) no (?:es|esta) (?:monitorizado|supervisado|atendido|revisado)",
)


@dataclass(frozen=True)
class RuleMatch:
    """A category a rule is sure of, with how sure and why (for the console and the tests)."""

    category: str
    confidence: float
    reason: str


def match_rules(subject: str, raw_text: str, body: str) -> RuleMatch | None:
    """The category the machine-written formulas give, or None to leave it to the model.

    `raw_text` is the whole reply (a bounce's evidence can sit in its quoted part);
    `body` is the cleaned text the author or autoresponder wrote."""
    subj, raw, own = fold(subject), fold(raw_text[:6000]), fold(body)
    subject_bounce = bool(_BOUNCE_SUBJECT.search(subj))
    strong = bool(_BOUNCE_STRONG.search(raw))
    phrases = {m.group(0) for m in _BOUNCE_PHRASES.finditer(raw)}
    if strong and (subject_bounce or phrases):
        return RuleMatch(ReplyCategory.BOUNCE, 0.99, "delivery report")
    if subject_bounce and (phrases or strong):
        return RuleMatch(ReplyCategory.BOUNCE, 0.98, "bounce subject and delivery failure")
    if len(phrases) >= 2 or (strong and "mailer-daemon" in raw):
        return RuleMatch(ReplyCategory.BOUNCE, 0.95, "delivery failure phrases")

    if _DEPARTED.search(own):
        return None  # a departure notice, even automatic, is the model's `wrong_person` call
    auto_subject = bool(_AUTO_SUBJECT.search(subj))
    absence = bool(_ABSENCE.search(own) or _ABSENCE.search(subj))
    responder = bool(_AUTORESPONDER.search(own))
    if absence and (auto_subject or responder):
        return RuleMatch(ReplyCategory.OUT_OF_OFFICE, 0.97, "absence notice")
    if _AUTOMATED.search(own) and not absence:
        return RuleMatch(ReplyCategory.AUTO_REPLY, 0.95, "automatic reply formula")
    return None
