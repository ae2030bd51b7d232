"""Plain text written in the reply box, turned into safe HTML for the email.

Everything is escaped first; then a few marks a person types anyway become formatting:
blank lines make paragraphs, single newlines line breaks, `**bold**` and `*italic*`, and web
addresses become links. No HTML the writer typed ever reaches the email as HTML.
"""

from __future__ import annotations

import re

from django.utils.html import escape, urlize

_BOLD = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*")
_ITALIC = re.compile(r"(?<![\*\w])\*(\S(?:.*?\S)?)\*(?![\*\w])")


def _inline(text: str) -> str:
    html = urlize(escape(text), autoescape=False)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    return _ITALIC.sub(r"<em>\1</em>", html)


def reply_html(text: str) -> str:
    """The HTML body of a reply written as `text`."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()) if p]
    return "".join(
        "<p>" + "<br>".join(_inline(line) for line in p.split("\n")) + "</p>" for p in paragraphs
    )
