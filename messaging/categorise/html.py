"""Plain text from an HTML reply, for replies that arrive without a text part.

Block elements become line breaks; the quoted history mail clients wrap in `<blockquote>` or a
`gmail_quote`/`yahoo_quoted`/`divRplyFwdMsg` container is marked with "> " so that the cleaner
drops it like any quote; scripts and styles vanish.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table", "hr", "blockquote"}
_SKIP = {"script", "style", "head", "title"}
_QUOTE_CLASSES = re.compile(
    r"gmail_quote|yahoo_quoted|moz-cite-prefix|divRplyFwdMsg|OutlookMessageHeader"
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, opened a quote)
        self.quote_depth = 0
        self.skip_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skip_depth += 1
            return
        classes = " ".join(value or "" for name, value in attrs if name in ("class", "id"))
        quote = tag == "blockquote" or bool(_QUOTE_CLASSES.search(classes))
        if tag not in ("br", "hr", "img", "meta", "link", "input"):
            self.stack.append((tag, quote))
            self.quote_depth += quote
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        while self.stack:
            open_tag, quote = self.stack.pop()
            self.quote_depth -= quote
            if open_tag == tag:
                break
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.skip_depth:
            return
        if self.quote_depth:
            data = "\n".join(f"> {line}" if line.strip() else line for line in data.split("\n"))
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body, quoted history marked with "> "."""
    parser = _TextExtractor()
    parser.feed(html or "")
    parser.close()
    text = "".join(parser.parts)
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
