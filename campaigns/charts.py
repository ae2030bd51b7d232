"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, readable by screen readers.

`daily_chart` draws one value per day: bars and/or lines, each on a left or right axis, with
ticks, date labels, a legend, an accessible `<title>`/`<desc>` and a native tooltip per day.
`sparkline` draws the small trend line of a figure card. Both return safe markup for templates;
every text that reaches the markup is escaped here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Unique ids for <title>/<desc>, so several charts on one page stay addressable.
_ids = count(1)

COLORS = {
    "blue": "#3b5bdb",
    "teal": "#0ca678",
    "orange": "#f08c00",
    "violet": "#7048e8",
    "red": "#e03131",
}


@dataclass(frozen=True)
class Series:
    """One daily series: how it is called, drawn (`bar` or `line`) and on which axis."""

    label: str
    values: Sequence[float]
    kind: str = "bar"
    axis: str = "left"
    color: str = COLORS["blue"]


def nice_ceiling(value: float, ticks: int = 4) -> tuple[float, float]:
    """The axis maximum and tick step for `value`: steps of 1, 2, 2.5 or 5 times a power of 10."""
    if value <= 0:
        return 1.0, 0.25
    raw_step = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw_step))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step * ticks >= value:
            break
    return step * ticks, step


def short_number(value: float) -> str:
    """12 -> "12", 1500 -> "1.5k", 2000000 -> "2M": axis labels must stay narrow."""
    if abs(value) >= 1_000_000:
        text = f"{value / 1_000_000:.1f}M"
    elif abs(value) >= 1_000:
        text = f"{value / 1_000:.1f}k"
    elif value == int(value):
        return str(int(value))
    else:
        text = f"{value:.2f}"
    return text.replace(".0M", "M").replace(".0k", "k")


def _day_label(day: dt.date) -> str:
    return f"{day:%b} {day.day}"


def daily_chart(
    days: Sequence[dt.date],
    series: Sequence[Series],
    *,
    title: str,
    description: str = "",
    width: int = 760,
    height: int = 280,
    value_format: Callable[[float], str] = short_number,
    max_labels: int = 8,
    css_class: str = "",
) -> SafeString:
    """An SVG chart of `series` over `days` (one value per day in each series).

    The SVG scales to its container; draw it at about the size it will be shown (a phone gets
    a narrow one) so the text stays legible.
    """
    uid = next(_ids)
    title_id, desc_id = f"chart-{uid}-title", f"chart-{uid}-desc"
    left, right, top, bottom = 48, 48 if any(s.axis == "right" for s in series) else 16, 34, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(days), 1)
    slot = plot_w / n

    scales = {}
    for axis in ("left", "right"):
        peak = max((max(s.values, default=0) for s in series if s.axis == axis), default=0)
        scales[axis] = nice_ceiling(peak)

    def y(value: float, axis: str) -> float:
        return top + plot_h - (value / scales[axis][0]) * plot_h

    out = [
        f'<svg class="chart-svg {escape(css_class)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
    ]

    # Grid and axis labels.
    max_left, step_left = scales["left"]
    ticks = round(max_left / step_left)
    for i in range(ticks + 1):
        value = step_left * i
        ty = y(value, "left")
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{"#d0d5dd" if i == 0 else "#eef0f3"}" />'
        )
        out.append(
            f'<text x="{left - 8}" y="{ty + 4:.1f}" text-anchor="end" fill="#667085">'
            f"{escape(value_format(value))}</text>"
        )
        if right > 16:
            right_value = scales["right"][1] * i  # both scales have the same tick count
            out.append(
                f'<text x="{left + plot_w + 8}" y="{ty + 4:.1f}" text-anchor="start" '
                f'fill="#667085">{escape(value_format(right_value))}</text>'
            )

    # Date labels: at most `max_labels`, evenly spaced, always including the last day.
    every = max(1, math.ceil(n / max_labels))
    for i, day in enumerate(days):
        if (len(days) - 1 - i) % every:
            continue
        x = left + slot * (i + 0.5)
        out.append(
            f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" fill="#667085">'
            f"{escape(_day_label(day))}</text>"
        )

    # Bars first (grouped side by side when several), then lines on top.
    bars = [s for s in series if s.kind == "bar"]
    gap = min(2.0, slot * 0.2)
    bar_w = max((slot - gap) / max(len(bars), 1), 0.5)
    for b, s in enumerate(bars):
        parts = []
        for i, value in enumerate(s.values):
            if not value:
                continue
            x = left + slot * i + gap / 2 + bar_w * b
            yy = y(value, s.axis)
            parts.append(
                f'<rect x="{x:.1f}" y="{yy:.1f}" width="{bar_w:.1f}" '
                f'height="{top + plot_h - yy:.1f}" rx="{min(2, bar_w / 3):.1f}" />'
            )
        out.append(f'<g fill="{s.color}" opacity="0.85">{"".join(parts)}</g>')
    for s in series:
        if s.kind != "line":
            continue
        points = " ".join(
            f"{left + slot * (i + 0.5):.1f},{y(value, s.axis):.1f}"
            for i, value in enumerate(s.values)
        )
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{s.color}" stroke-width="2" '
            f'stroke-linejoin="round" stroke-linecap="round" />'
        )

    # Legend, top left; the axis a series reads from is said when there are two.
    lx = left
    for s in series:
        swatch = (
            f'<rect x="{lx}" y="10" width="10" height="10" rx="2" fill="{s.color}" />'
            if s.kind == "bar"
            else f'<line x1="{lx}" x2="{lx + 12}" y1="15" y2="15" stroke="{s.color}" '
            f'stroke-width="2.5" />'
        )
        label = s.label + (" (right axis)" if s.axis == "right" else "")
        out.append(swatch)
        out.append(f'<text x="{lx + 17}" y="19" fill="#344054">{escape(label)}</text>')
        lx += 17 + 7 * len(label) + 20  # about 7 units per character at this font size

    if not any(any(s.values) for s in series):
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
            f'fill="#98a2b3" font-size="14">No activity in this period</text>'
        )

    # One transparent column per day carrying a native tooltip (hover, no JavaScript).
    tips = []
    for i, day in enumerate(days):
        text = ", ".join(f"{s.label}: {value_format(s.values[i])}" for s in series)
        tips.append(
            f'<rect x="{left + slot * i:.1f}" y="{top}" width="{slot:.1f}" height="{plot_h}">'
            f"<title>{escape(_day_label(day))}: {escape(text)}</title></rect>"
        )
    out.append(f'<g class="chart-hover" fill="transparent">{"".join(tips)}</g>')
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text is escaped above


def sparkline(
    values: Sequence[float], *, width: int = 120, height: int = 28, color: str = COLORS["blue"]
) -> SafeString:
    """A decorative trend line (hidden from screen readers: the figure beside it says it)."""
    if len(values) < 2:
        return mark_safe("")
    # Scaled from the lowest to the highest value: a trend line shows shape, not size.
    low, high = min(values), max(values)
    span = (high - low) or 1
    step = width / (len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - ((v - low) / span) * (height - 4):.1f}"
        for i, v in enumerate(values)
    )
    return mark_safe(  # noqa: S308 - numbers and a fixed colour only
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-hidden="true" focusable="false" preserveAspectRatio="none">'
        f'<polyline points="{points}" fill="none" stroke="{escape(color)}" stroke-width="1.5" '
        f'stroke-linejoin="round" /></svg>'
    )


def data_table(
    days: Sequence[dt.date], columns: Sequence[tuple[str, Sequence[float]]]
) -> SafeString:
    """The numbers behind a daily chart as an HTML table, newest day first.

    Built here rather than in a template loop: a 90-day table is hundreds of cells, and this
    keeps the page well inside its time budget.
    """
    head = "".join(f'<th scope="col" class="num">{escape(label)}</th>' for label, _ in columns)
    rows = []
    for i in range(len(days) - 1, -1, -1):
        day = days[i]
        cells = "".join(f'<td class="num">{int(values[i]):,}</td>' for _, values in columns)
        rows.append(
            f'<tr><th scope="row">{escape(f"{day:%a}, {_day_label(day)}")}</th>{cells}</tr>'
        )
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above
        f'<table class="compact"><thead><tr><th scope="col">Day</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
