"""Cut a reply down to what its author wrote: no quoted history, no signature, no sign-off.

A reply carries the whole cold email below it and often a long signature; both would teach the
model the wrong thing (every category quotes the same pitch). The markers are the reply headers
the common mail clients write in English, German, French and Spanish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import normalise

# "On Mon, 2 Dec 2024 at 10:00, Ana <ana@x.io> wrote:" and its German, French, Spanish and
# Italian/Dutch cousins; clients wrap long headers, so these are matched on up to three lines.
_REPLY_HEADER = re.compile(
    r"^\W{0,3}(?:on|am|le|el|il|op)\b.{0,300}?"
    r"\b(?:wrote|schrieb|a\s+écrit|escribió|ha\s+scritto|schreef)\b[^\n]{0,120}:\s*$",
    re.IGNORECASE | re.DOTALL,
)
# "Ana <ana@x.io> wrote:" without the date part, when it names an address or a time.
_SHORT_HEADER = re.compile(
    r"^[^\n]{0,200}(?:@|\d)[^\n]{0,200}\b(?:wrote|schrieb|a\s+écrit|escribió)\s*:\s*$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^\s*(?:-{2,}|_{2,}|={2,})\s*(?:original\s+message|ursprüngliche\s+nachricht|"
    r"originalnachricht|message\s+d'origine|message\s+original|mensaje\s+original|"
    r"forwarded\s+message|weitergeleitete\s+nachricht|message\s+transféré|mensaje\s+reenviado)"
    r"\s*(?:-{2,}|_{2,}|={2,})?\s*$|^\s*_{10,}\s*$|^\s*begin\s+forwarded\s+message\s*:",
    re.IGNORECASE,
)
# Outlook's header on one line, as some clients flatten it.
_HEADER_ONE_LINE = re.compile(
    r"^\W{0,2}(?:from|von|de)\s*:.{1,200}\b(?:sent|gesendet|envoyé|enviado)\s*:.{1,100}"
    r"\b(?:subject|betreff|objet|asunto)\s*:",
    re.IGNORECASE,
)
# Outlook's header block: "From:" then, within a few lines, "Sent:"/"To:"/"Subject:".
_HEADER_FROM = re.compile(r"^\W{0,2}(?:from|von|de|da)\s*:\W{0,2}\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\W{0,2}(?:sent|date|to|subject|cc|gesendet|datum|an|betreff|envoyé|à|objet|"
    r"enviado|fecha|para|asunto)\s*:",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER = re.compile(r"^(?:--|—|––)\s*$")
_MOBILE_FOOTER = re.compile(
    r"^\s*(?:sent\s+from\s+my|get\s+outlook\s+for|von\s+meinem\s+\S+\s+gesendet|"
    r"gesendet\s+von\s+meinem|envoyé\s+de\s+mon|envoyé\s+depuis\s+mon|"
    r"enviado\s+desde\s+mi|obtener\s+outlook\s+para)\b",
    re.IGNORECASE,
)
_SIGN_OFFS = (
    # English
    "best|best regards|kind regards|warm regards|warmest regards|regards|many thanks|"
    "thanks|thank you|thanks again|thanks so much|thx|cheers|all the best|all best|sincerely|"
    "yours sincerely|yours truly|yours|talk soon|speak soon|best wishes|br|rgds|kr|"
    "have a great day|have a nice day|have a good one|"
    # German
    "mit freundlichen grüßen|mit freundlichen grüssen|mfg|freundliche grüße|freundliche grüsse|"
    "viele grüße|viele grüsse|beste grüße|beste grüsse|liebe grüße|liebe grüsse|lg|vg|"
    "herzliche grüße|schöne grüße|gruß|grüße|danke|vielen dank|besten dank|mit besten grüßen|"
    "freundlichst|bis bald|"
    # French
    "cordialement|bien cordialement|très cordialement|bien à vous|salutations|"
    "sincères salutations|bonne journée|belle journée|bonne soirée|merci|merci beaucoup|"
    "merci d'avance|à bientôt|amicalement|bien à toi|cdlt|bàv|"
    # Spanish
    "saludos|un saludo|saludos cordiales|atentamente|gracias|muchas gracias|un abrazo|"
    "cordialmente|quedo atento|quedo atenta|buen día|que tengas buen día|hasta pronto"
)
_SIGN_OFF = re.compile(
    rf"^\W{{0,2}}(?i:{_SIGN_OFFS})\W{{0,3}}(?:[A-ZÀ-Ý][\w.'-]*(?:\s+[A-ZÀ-Ý][\w.'-]*){{0,2}})?\W*$"
)
# "Sophie Hughes", "R. Carter", "Jean-Marc de la Tour": a name alone on a line ends the text.
_NAME_LINE = re.compile(
    r"^[A-ZÀ-Ý][\w'’-]*\.?(?:\s+(?:(?:van|von|de|del|der|la|le|da|di|du)\s+)?"
    r"[A-ZÀ-Ý][\w'’-]*\.?){1,3}$"
)
_GREETING = re.compile(
    r"^\W{0,2}(?:hi|hello|hey|dear|(?:good\s+)?(?:morning|afternoon|evening)|greetings|hallo|"
    r"guten\s+(?:tag|morgen|abend)|sehr\s+geehrte[rs]?|liebe[rs]?|moin|servus|grüß\s+gott|"
    r"bonjour|bonsoir|salut|cher|chère|madame|monsieur|hola|buenos\s+días|buenas\s+tardes|"
    r"buenas|estimad[oa]s?|querid[oa])\b[^\n]{0,60}$",
    re.IGNORECASE,
)
_FIRST_NAME_LINE = re.compile(r"^[A-ZÀ-Ý][a-zà-ÿ'’-]+$")
_CONTACT_LINE = re.compile(r"[|·•]|www\.|https?://|\+?\d[\d\s()/.-]{6,}|@|^(?:T|M|Tel|Mob|Fax)\b")
# A sign-off is only trusted this close to the end (the rest is a name, a title, a phone).
_MAX_LINES_AFTER_SIGN_OFF = 10


@dataclass(frozen=True)
class CleanReply:
    """The author's own words, and what was cut from the reply."""

    body: str
    quoted: str = ""
    signature: str = ""


def clean_reply(text: str) -> CleanReply:
    """Split a reply into the new text, the quoted history and the signature."""
    lines = normalise(text).split("\n")
    cut = _quote_start(lines)
    own, quoted = lines[:cut], lines[cut:]
    kept = [line for line in own if not line.lstrip().startswith(">")]
    quoted = [line for line in own if line.lstrip().startswith(">")] + quoted
    body_lines, signature_lines = _split_signature(kept)
    body = _tidy("\n".join(body_lines))
    if not body:
        # Everything looked quoted (a forward, a reply typed under the quote): keep what the
        # author wrote at all rather than nothing.
        body = _tidy("\n".join(line.lstrip("> ") for line in lines[:cut] or lines))
    return CleanReply(
        body=body, quoted="\n".join(quoted).strip(), signature="\n".join(signature_lines).strip()
    )


def _quote_start(lines: list[str]) -> int:
    """Index of the first line of quoted history (len(lines) when there is none)."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _SEPARATOR.match(line) or _HEADER_ONE_LINE.match(line):
            return i
        if _HEADER_FROM.match(line) and any(
            _HEADER_NEXT.match(nxt) for nxt in lines[i + 1 : i + 6]
        ):
            return i
        if _SHORT_HEADER.match(line.strip()):
            return i
        # A client may wrap a long header over up to three consecutive lines.
        for span in (1, 2, 3):
            part = lines[i : i + span]
            if len(part) < span or not all(p.strip() for p in part):
                break
            joined = " ".join(p.strip() for p in part)
            if len(joined) <= 400 and _REPLY_HEADER.match(joined):
                return i
    return len(lines)


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    """Cut at the "-- " delimiter, a mobile footer, or a sign-off line near the end that
    follows at least one line of content."""
    cut = len(lines)
    for i, line in enumerate(lines):
        if _SIGNATURE_DELIMITER.match(line) or _MOBILE_FOOTER.match(line):
            cut = i
            break
    content_seen = False
    for i, line in enumerate(lines[:cut]):
        stripped = line.strip()
        if not stripped:
            continue
        if content_seen and (
            _SIGN_OFF.match(stripped)
            or _NAME_LINE.match(stripped)
            or _signature_follows(stripped, lines[i + 1 : cut])
        ):
            remaining = [rest for rest in lines[i + 1 : cut] if rest.strip()]
            if len(remaining) <= _MAX_LINES_AFTER_SIGN_OFF:
                cut = i
                break
        if not _GREETING.match(stripped):
            content_seen = True
    return lines[:cut], lines[cut:]


def _signature_follows(line: str, rest: list[str]) -> bool:
    """A lone first name ("Hannah") followed by the same name or a title, phone or web line."""
    if not _FIRST_NAME_LINE.match(line):
        return False
    following = next((r.strip() for r in rest if r.strip()), "")
    return bool(following) and (following.startswith(line) or bool(_CONTACT_LINE.search(following)))


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip()
