"""Small builders for in-memory test data."""

from __future__ import annotations

import datetime as dt

from digest.model import Article


def article(
    title: str = "A title",
    body: str = "First sentence of the body here. Second sentence of the body here.",
    **kw: object,
) -> Article:
    paragraphs = tuple(p for p in body.split("\n\n") if p.strip())
    date = kw.pop("date", None)
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    return Article(
        source=str(kw.pop("source", f"{title}.txt")),
        title=title,
        paragraphs=paragraphs,
        date=date,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
