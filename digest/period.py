"""Which articles an issue covers: ``--month``, ``--since`` and ``--until``.

Pure functions over :class:`Article` values. An article's date comes from
its front matter, its feed entry or a date stated in its text (see
``clean.find_date``), never from the file's modification time. Undated
articles are reported with a warning; when the build is limited to dates
they are left out (they cannot be shown to belong to the period).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import DigestError
from .model import Article

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Window:
    """The dates kept, both ends included; ``None`` = open. ``key`` names a month."""

    since: dt.date | None = None
    until: dt.date | None = None
    key: str = ""  # "2024-11" when the window is one calendar month

    @property
    def limited(self) -> bool:
        return self.since is not None or self.until is not None

    def describe(self) -> str:
        if self.key:
            return f"{month_name(self.key)} ({self.since} to {self.until})"
        if self.since and self.until:
            return f"{self.since} to {self.until}"
        if self.since:
            return f"since {self.since}"
        if self.until:
            return f"until {self.until}"
        return "any date"

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, dt.date):
            return False
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )


def month_window(value: str) -> Window:
    """``"2024-11"`` -> the window from 1 to 30 November 2024."""
    m = _MONTH.match(value.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"{value!r} is not a month; write it as YYYY-MM, e.g. 2024-11")
    year, month = int(m.group(1)), int(m.group(2))
    last = calendar.monthrange(year, month)[1]
    return Window(dt.date(year, month, 1), dt.date(year, month, last), f"{year:04d}-{month:02d}")


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_name(key: str) -> str:
    """``"2024-11"`` -> ``"November 2024"``."""
    year, month = key.split("-")
    return f"{calendar.month_name[int(month)]} {year}"


def undated_warning(article: Article) -> str:
    return (
        f"{article.source}: undated (no date in its front matter, feed entry or text; "
        "state it near the top, e.g. 'November 16, 2024', or use Markdown with 'date:')"
    )


MAX_UNDATED_LINES = 5


def undated_warnings(undated: Sequence[Article], window: Window) -> list[str]:
    """One warning per undated article; past a handful, one line for all of
    them, so a folder of 5,000 undated files does not bury the other warnings."""
    tail = f"; left out of {window.describe()}" if window.limited else ""
    if len(undated) <= MAX_UNDATED_LINES:
        return [undated_warning(a) + tail for a in undated]
    named = ", ".join(a.source for a in undated[:3])
    return [
        f"{len(undated)} articles are undated ({named} and {len(undated) - 3} more): "
        "no date in their front matter, feed entry or text; state it near the top, "
        "e.g. 'November 16, 2024', or use Markdown with 'date:'" + tail
    ]


def select(articles: Sequence[Article], window: Window) -> tuple[list[Article], list[str]]:
    """The articles dated inside ``window``, and a warning for each undated one.

    With no limits every article is kept. With limits, undated articles are
    left out (with the warning saying so). An empty result is a
    ``DigestError`` that says what was found instead, so nothing is written.
    """
    kept: list[Article] = []
    undated: list[Article] = []
    for a in articles:
        if a.date is None:
            undated.append(a)
            if not window.limited:
                kept.append(a)
        elif a.date in window:
            kept.append(a)
    warnings = undated_warnings(undated, window)
    if not kept:
        dates = sorted(a.date for a in articles if a.date)
        found = f"dated {dates[0]} to {dates[-1]}" if dates else "none dated"
        raise DigestError(
            f"no articles for {window.describe()}: {len(articles)} loaded, {found}"
            + (f", {len(undated)} undated" if undated and dates else "")
            + "; nothing written",
            hint="choose another --month/--since/--until, or date the articles",
        )
    return kept, warnings


def issue_key(articles: Sequence[Article], window: Window) -> str:
    """The issue's month: ``--month``, else the month of the newest dated
    article; "" when nothing is dated (such an issue gets no number)."""
    if window.key:
        return window.key
    dates = [a.date for a in articles if a.date]
    return month_key(max(dates)) if dates else ""
