"""`{% live_feed %}`: the newest feed lines, live in the browser, for the dashboard (a page of
the campaigns layer, which never imports `messaging`)."""

from __future__ import annotations

from django import template

from .. import feed as feed_lines

register = template.Library()


@register.inclusion_tag("feed/_lines.html")
def live_feed(organization, limit=8):
    lines = feed_lines.latest(organization.pk, limit)
    for line in lines:
        line.link = feed_lines.link_for(line)
    return {"lines": lines, "newest_id": lines[0].id if lines else 0}
