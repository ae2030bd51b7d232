"""A campaign's schedule and sequence as people read them, for the console's campaign page.

Both are stored as Instantly's JSON (`Campaign.schedule`, `Campaign.sequences`); the email
bodies inside are the provider's HTML, so they are reduced to text and escaped
(`format_html`), never rendered: a body cannot inject markup into the console.
"""

from __future__ import annotations

import re

from django.utils.html import format_html, format_html_join, strip_tags

# Instantly numbers the days from Sunday ("0") to Saturday ("6").
DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
PREVIEW_LENGTH = 160


def _days(days: dict) -> str:
    """{"1": true, ..., "5": true} -> "Mon–Fri"; scattered days are listed."""
    on = [i for i in range(7) if days.get(str(i)) or days.get(i)]
    if not on:
        return "no day"
    monday_first = [i for i in (1, 2, 3, 4, 5, 6, 0) if i in on]
    order = [1, 2, 3, 4, 5, 6, 0]
    positions = [order.index(i) for i in monday_first]
    if len(on) > 2 and positions == list(range(positions[0], positions[0] + len(positions))):
        return f"{DAY_NAMES[monday_first[0]]}–{DAY_NAMES[monday_first[-1]]}"
    return ", ".join(DAY_NAMES[i] for i in monday_first)


def schedule_lines(schedule: dict) -> list[str]:
    """One line per sending window: "Business hours: Mon–Fri 09:00–17:00 (Europe/Berlin)"."""
    lines = []
    for item in (schedule or {}).get("schedules") or []:
        timing = item.get("timing") or {}
        window = f"{timing.get('from', '?')}–{timing.get('to', '?')}"
        zone = f" ({item['timezone']})" if item.get("timezone") else ""
        name = f"{item['name']}: " if item.get("name") else ""
        lines.append(f"{name}{_days(item.get('days') or {})} {window}{zone}")
    start, end = (schedule or {}).get("start_date"), (schedule or {}).get("end_date")
    if start or end:
        lines.append(f"From {start or 'the start'} to {end or 'no end date'}")
    return lines


def schedule_html(schedule: dict) -> str:
    lines = schedule_lines(schedule)
    if not lines:
        return "-"
    return format_html_join("", "<div>{}</div>", ((line,) for line in lines))


def text_preview(body: str, length: int = PREVIEW_LENGTH) -> str:
    """An email body (HTML or text) as one line of plain text, cut at `length`."""
    text = re.sub(r"<(br|/div|/p)\s*/?>", " ", body or "", flags=re.IGNORECASE)
    text = " ".join(strip_tags(text).split())
    return text if len(text) <= length else text[: length - 1] + "…"


def sequence_steps(sequences: list) -> list[dict]:
    """Each step of the first sequence (Instantly campaigns have one) with its delay and
    variants; a follow-up without a subject is sent as a reply in the thread."""
    steps = ((sequences or [{}])[0] or {}).get("steps") or []
    rows = []
    for number, step in enumerate(steps, start=1):
        delay = step.get("delay") or 0
        unit = step.get("delay_unit") or "days"
        rows.append(
            {
                "number": number,
                "wait": "first email" if number == 1 else f"{delay} {unit} after step {number - 1}",
                "variants": [
                    {
                        "letter": chr(ord("A") + i),
                        "subject": v.get("subject") or "(reply in thread)",
                        "preview": text_preview(v.get("body") or ""),
                        "disabled": bool(v.get("v_disabled")),
                    }
                    for i, v in enumerate(step.get("variants") or [])
                ],
            }
        )
    return rows


def sequence_html(sequences: list) -> str:
    steps = sequence_steps(sequences)
    if not steps:
        return "-"
    parts = []
    for step in steps:
        variants = format_html_join(
            "",
            '<li{}><strong>{}</strong> {}<br><span class="preview">{}</span></li>',
            (
                (
                    format_html(' class="disabled" title="disabled"') if v["disabled"] else "",
                    v["letter"],
                    v["subject"],
                    v["preview"],
                )
                for v in step["variants"]
            ),
        )
        parts.append(
            format_html(
                '<div class="step"><div><strong>Step {}</strong> · {}</div><ul>{}</ul></div>',
                step["number"],
                step["wait"],
                variants,
            )
        )
    return format_html(
        '<div class="sequence">{}</div>', format_html_join("", "{}", ((p,) for p in parts))
    )
