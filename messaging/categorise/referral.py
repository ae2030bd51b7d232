"""Who a `wrong_person` reply points to: the name and address of the right contact.

"Please contact Jane Smith (jane.smith@acme.com)", "wenden Sie sich an Frau Weber,
weber@firma.de", "écrivez à Marc Dubois", "escriba a lucia@empresa.es". The address comes from
the text; the name is taken next to it or after a referral phrase, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}")
_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_HONORIFIC = r"(?:Mr|Mrs|Ms|Miss|Dr|Prof|Herr|Herrn|Frau|M|Mme|Mlle|Sr|Sra|Srta|Don|Doña)\.?\s+"
_NAME_WORD = rf"[{_UPPER}][{_LOWER}'’-]+"
_PARTICLE = r"(?:van|von|de|del|der|den|la|le|da|di|du|dos|y)"
_NAME = rf"(?:{_HONORIFIC})?(?P<name>{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD}){{0,2}})"
_MY_COLLEAGUE = (
    r"(?:(?:my|our|unser(?:e|en|er)?|meine[nr]?|mon|ma|notre|mi|nuestr[oa])\s+)?"
    r"(?:colleague|kolleg(?:e|in|en)|collègue|compañer[oa]|head\s+of\s+\w+|manager|"
    r"responsable|director[a]?|directeur|directrice|leiter(?:in)?)?[\s,:]*"
)
_REFERRAL_VERBS = (
    r"contact|reach\s+out\s+to|speak\s+(?:to|with)|talk\s+to|get\s+in\s+touch\s+with|"
    r"e-?mail|write\s+to|forward(?:ed)?\s+(?:this|it|your\s+(?:e-?mail|message))\s+to|"
    r"try|ask|loop\s+in|cc(?:'d|ed)?|"
    r"wenden\s+sie\s+sich\s+(?:bitte\s+)?an|wende\s+dich\s+an|kontaktieren\s+sie(?:\s+bitte)?|"
    r"melden\s+sie\s+sich\s+(?:bitte\s+)?bei|schreiben\s+sie(?:\s+bitte)?(?:\s+an)?|"
    r"weitergeleitet\s+an|ansprechpartner(?:in)?\s+(?:ist|wäre)|zuständig\s+ist|"
    r"contactez(?:\s+plutôt)?|adressez-vous\s+à|écrivez(?:\s+plutôt)?\s+à|voyez\s+avec|"
    r"voir\s+avec|transféré\s+à|transmis\s+à|s'adresser\s+à|"
    r"contacte(?:\s+con)?|póngase\s+en\s+contacto\s+con|escriba(?:\s+a)?|escríbele\s+a|"
    r"hable\s+con|diríjase\s+a|reenviado\s+a|le\s+corresponde\s+a"
)
_AFTER_VERB = re.compile(rf"(?i:\b(?:{_REFERRAL_VERBS})\b)\s+{_MY_COLLEAGUE}{_NAME}")
_BEFORE_EMAIL = re.compile(rf"{_NAME}\s*(?:[(<\[:,–-]|\bat\b|\bunter\b|\bà\b|\ben\b|\ba\b)?\s*$")
_COLLEAGUE = re.compile(
    r"(?i:\b(?:my|our|unser\w*|meine?\w*|mon|ma|notre|mi|nuestr[oa])\s+"
    r"(?:colleague|kolleg\w*|collègue|compañer[oa]|counterpart|successor|nachfolger\w*|"
    r"successeur|remplaçant\w*|sucesor\w*|reemplazo))\s*,?\s*"
    rf"{_NAME}"
)
_NAME_THEN_ROLE = re.compile(
    rf"{_NAME}\s+(?i:(?:is|ist|est|es)\s+(?:\w+\s+){{0,2}}"
    r"(?:the\s+right|responsible|in\s+charge|zuständig|verantwortlich|la\s+bonne|"
    r"responsable|la\s+persona|el\s+responsable|la\s+responsable|der\s+richtige|die\s+richtige)"
    r"|handles|takes\s+care|looks\s+after|kümmert\s+sich|s'occupe|se\s+encarga|lleva)"
)
_AFTER_EMAIL = re.compile(rf"^\s*[)>\]]?\s*[(\[]\s*{_NAME}\s*[)\]]")
# Capitalised words that start sentences or name roles, not people.
_NOT_NAMES = {
    word.lower()
    for word in (
        "Please Thanks Thank The Our My He She They We You Your Hi Hello Dear Head Team Sales "
        "Marketing Support Office HR Info Bitte Danke Unser Unsere Sie Er Ihr Hallo Vertrieb "
        "Einkauf Geschäftsführung Merci Notre Nos Il Elle Bonjour Service Gracias Nuestro "
        "Nuestra Él Ella Hola Equipo Departamento Abteilung Direction Dirección Compras Achats "
        "Regards Best Cheers Saludos Cordialement Grüße Manager Director CEO CTO CFO COO "
        "Procurement Purchasing Legal Finance IT Operations Einkaufsabteilung Marketingabteilung "
        "Contact Email Write Try Ask Reach Forward Schreiben Kontaktieren Wenden Contactez "
        "Écrivez Ecrivez Adressez Contacte Contacta Escribe Escriba Escríbele Diríjase Hable "
        "Habla Prueba Please Bitte Merci Por Favor"
    ).split()
}


@dataclass(frozen=True)
class Referral:
    """The contact a reply sends us to; either part may be missing."""

    name: str = ""
    email: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email}


def find_referral(text: str, *, exclude: tuple[str, ...] = ()) -> Referral | None:
    """The referred contact in the reply's own text (quoted history already removed)."""
    excluded = {address.lower() for address in exclude}
    emails = [m for m in EMAIL.finditer(text) if m.group(0).lower() not in excluded]
    for match in emails:
        name = _name_near(text, match)
        return Referral(name=name, email=match.group(0).strip(".'"))
    for pattern in (_AFTER_VERB, _COLLEAGUE, _NAME_THEN_ROLE):
        for match in pattern.finditer(text):
            name = _clean_name(match.group("name"))
            if name:
                return Referral(name=name)
    return None


def _name_near(text: str, email: re.Match) -> str:
    before = text[max(0, email.start() - 120) : email.start()]
    for pattern in (_AFTER_VERB, _COLLEAGUE, _NAME_THEN_ROLE):
        found = [m for m in pattern.finditer(before)]
        if found:
            name = _clean_name(found[-1].group("name"))
            if name:
                return name
    near = _BEFORE_EMAIL.search(before)
    if near:
        name = _clean_name(near.group("name"))
        if name:
            return name
    after = _AFTER_EMAIL.match(text[email.end() : email.end() + 60])
    return _clean_name(after.group("name")) if after else ""


def _clean_name(name: str) -> str:
    words = name.split()
    while words and words[0].lower() in _NOT_NAMES:
        words = words[1:]
    while words and words[-1].lower() in _NOT_NAMES:
        words = words[:-1]
    return " ".join(words)
