"""Choosing an issue's articles by date."""

from __future__ import annotations

import datetime as dt

import pytest

from digest.errors import DigestError
from digest.period import Window, issue_key, month_name, month_window, select
from tests.helpers import article


def test_month_window():
    w = month_window("2024-02")
    assert (w.since, w.until, w.key) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29), "2024-02")
    assert month_name("2024-11") == "November 2024"
    for bad in ("2024-13", "24-11", "2024/11", "November"):
        with pytest.raises(ValueError):
            month_window(bad)


def test_no_limits_keeps_everything_and_reports_undated():
    arts = [article("A", date="2024-09-01", source="a.txt"), article("B", source="b.txt")]
    kept, warnings = select(arts, Window())
    assert kept == arts
    assert warnings == [
        "b.txt: undated (no date in its front matter, feed entry or text; "
        "state it near the top, e.g. 'November 16, 2024', or use Markdown with 'date:')"
    ]


def test_a_month_keeps_its_articles_both_ends_included_and_leaves_out_undated():
    arts = [
        article("Aug", date="2024-08-31"),
        article("First", date="2024-09-01"),
        article("Last", date="2024-09-30"),
        article("Oct", date="2024-10-01"),
        article("Undated", source="u.txt"),
    ]
    kept, warnings = select(arts, month_window("2024-09"))
    assert [a.title for a in kept] == ["First", "Last"]
    assert len(warnings) == 1
    assert warnings[0].startswith("u.txt: undated")
    assert warnings[0].endswith("left out of September 2024 (2024-09-01 to 2024-09-30)")


def test_since_and_until():
    arts = [article(str(d), date=f"2024-10-{d:02d}") for d in (1, 10, 20)]
    kept, _ = select(arts, Window(since=dt.date(2024, 10, 10)))
    assert [a.title for a in kept] == ["10", "20"]
    kept, _ = select(arts, Window(until=dt.date(2024, 10, 10)))
    assert [a.title for a in kept] == ["1", "10"]


def test_an_empty_selection_says_what_there_is():
    arts = [article("A", date="2024-09-03"), article("B", date="2024-10-30"), article("C")]
    with pytest.raises(DigestError) as err:
        select(arts, month_window("2024-12"))
    assert err.value.message == (
        "no articles for December 2024 (2024-12-01 to 2024-12-31): 3 loaded, "
        "dated 2024-09-03 to 2024-10-30, 1 undated; nothing written"
    )


def test_issue_key():
    arts = [article("A", date="2024-09-03"), article("B", date="2024-10-30"), article("C")]
    assert issue_key(arts, Window()) == "2024-10"
    assert issue_key(arts, month_window("2024-09")) == "2024-09"
    assert issue_key([article("C")], Window()) == ""


def test_many_undated_articles_are_one_warning():
    articles = [article(f"T{i}", source=f"u{i}.txt") for i in range(40)]
    kept, warnings = select(articles, Window())
    assert len(kept) == 40
    assert len(warnings) == 1
    assert warnings[0].startswith("40 articles are undated (u0.txt, u1.txt, u2.txt and 37 more)")
