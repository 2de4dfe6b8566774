"""Issue numbers, the archive index and its Atom feed."""

from __future__ import annotations

import feedparser
import pytest

from digest.archive import (
    Archive,
    IssueRecord,
    atom_feed,
    from_json,
    index_html,
    issue_url,
    to_json,
)
from digest.config import NewsletterConfig
from digest.errors import DigestError


def rec(key: str, number: int, archived: bool = True, **kw: object) -> IssueRecord:
    return IssueRecord(
        key=key,
        number=number,
        archived=archived,
        title=f"Digest #{number}",
        period=key,
        updated=f"{key}-15",
        articles=("A story",),
        **kw,
    )  # type: ignore[arg-type]


def test_numbers_are_kept_and_new_months_get_the_next():
    a = Archive()
    assert a.number_for("2024-09") == 1
    a = a.with_issue(rec("2024-09", 1)).with_issue(rec("2024-10", 2))
    assert a.number_for("2024-09") == 1
    assert a.number_for("2024-10") == 2
    assert a.number_for("2024-08") == 3  # a back-filled month comes next; nothing renumbers
    again = a.with_issue(rec("2024-10", 2, archived=False))
    assert again.get("2024-10").archived  # a plain rebuild keeps the archived page listed


def test_json_round_trip_and_errors():
    a = Archive().with_issue(rec("2024-10", 2)).with_issue(rec("2024-09", 1))
    assert from_json(to_json(a), "archive.json") == a
    for bad in (
        "[]",
        '{"issues": [{"key": "2024-09"}]}',
        '{"issues": [{"key": "x", "number": 0}]}',
    ):
        with pytest.raises(DigestError):
            from_json(bad, "archive.json")
    twice = '{"issues": [{"key": "2024-09", "number": 1}, {"key": "2024-10", "number": 1}]}'
    with pytest.raises(DigestError) as err:
        from_json(twice, "out/archive.json")
    assert "share a number" in err.value.message


def test_atom_feed_reads_back_newest_first():
    a = Archive((rec("2024-09", 1), rec("2024-10", 2), rec("2024-11", 3, archived=False)))
    nl = NewsletterConfig(name="Health & <Digest>")
    parsed = feedparser.parse(atom_feed(a, nl, "https://example.org/digest"))
    assert not parsed.bozo
    assert parsed.feed.title == "Health & <Digest>"
    assert [e.title for e in parsed.entries] == ["Digest #2", "Digest #1"]  # only archived
    assert parsed.entries[0].link == "https://example.org/digest/2024-10/digest.html"
    assert parsed.entries[0].updated_parsed[:3] == (2024, 10, 15)
    assert atom_feed(a, nl, "") == atom_feed(a, nl, "")  # stable bytes, stable ids
    relative = feedparser.parse(atom_feed(a, nl, ""))
    assert relative.entries[0].link.endswith("2024-10/digest.html")


def test_index_lists_archived_issues_newest_first_as_text():
    a = Archive((rec("2024-09", 1), rec("2024-10", 2)))
    a = a.with_issue(
        IssueRecord("2024-11", 3, "t", "<b>November</b>", "2024-11-02", ("<i>x</i>",), True)
    )
    html = index_html(a, NewsletterConfig(), "", None)
    assert (
        html.index("2024-11/digest.html")
        < html.index("2024-10/digest.html")
        < html.index("2024-09/digest.html")
    )
    assert "&lt;b&gt;November&lt;/b&gt;" in html and "<i>x</i>" not in html
    assert 'href="feed.xml"' in html


def test_issue_url():
    assert (
        issue_url("https://example.org/d/", "2024-11")
        == "https://example.org/d/2024-11/digest.html"
    )
