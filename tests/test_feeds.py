"""RSS and Atom parsing: entries, text not markup, dates, errors."""

from __future__ import annotations

import pytest

from digest.errors import DigestError
from digest.feeds import html_to_text, looks_like_feed, parse_feed
from tests.conftest import CORPUS


def test_html_to_text_keeps_paragraphs_and_drops_markup():
    text = html_to_text(
        "<p>One <b>bold</b> &amp; <a href='x'>linked</a>.</p><script>alert(1)</script>"
        "<style>p{}</style><ul><li>Two</li></ul>"
    )
    assert text == "One bold & linked.\n\nTwo"
    assert html_to_text("Plain &lt;b&gt; text") == "Plain <b> text"


def test_looks_like_feed():
    assert looks_like_feed(b'<?xml version="1.0"?>\n<!-- c -->\n<rss version="2.0">')
    assert looks_like_feed(b'\xef\xbb\xbf<feed xmlns="http://www.w3.org/2005/Atom">')
    assert looks_like_feed(b"<rdf:RDF xmlns:rdf='x'>")
    assert not looks_like_feed(b"<!DOCTYPE html><html><body>rss</body></html>")
    assert not looks_like_feed(b"Just text about <feed> tags")


def test_atom_entries_full_content_as_text():
    entries = parse_feed((CORPUS / "news.atom").read_bytes(), "news.atom")
    assert len(entries) == 3
    first = dict(entries[0].meta)
    assert first["title"] == "Telemedicine links rural clinics in Kenya"
    assert first["date"] == "2024-09-20"
    assert first["author"] == "Amina Odhiambo"
    assert first["source"] == "Global Health Wire"
    assert first["url"] == "https://wire.example.com/kenya-telemedicine"
    assert entries[0].text.split("\n\n")[2].startswith("Doctors say the biggest gain is")
    assert "<" not in entries[0].text and "alert" not in entries[0].text
    # no content element: the summary is the text
    assert entries[1].text.startswith("Surgeons from Hanoi will train in Osaka")


def test_rss_entries_dates_and_language():
    entries = parse_feed((CORPUS / "news.rss").read_bytes(), "news.rss")
    meta = dict(entries[0].meta)
    assert meta["date"] == "2024-10-22"
    assert meta["source"] == "Health Policy Daily"
    assert meta["language"] == "en-us"
    assert entries[0].text.count("\n\n") == 2


def test_content_wins_over_summary():
    feed = b"""<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
    <channel><title>T</title><item><title>A</title><description>Short teaser.</description>
    <content:encoded><![CDATA[<p>The full text of the article, much longer than the teaser.</p>]]></content:encoded>
    </item></channel></rss>"""
    (entry,) = parse_feed(feed, "f.rss")
    assert entry.text == "The full text of the article, much longer than the teaser."


def test_title_markup_becomes_text():
    feed = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry>
    <title type="html">A &lt;b&gt;bold&lt;/b&gt; &amp;amp; move</title><id>1</id>
    <summary>Body.</summary></entry></feed>"""
    (entry,) = parse_feed(feed, "f.atom")
    assert dict(entry.meta)["title"] == "A bold & move"


def test_not_a_feed_is_an_error():
    with pytest.raises(DigestError) as err:
        parse_feed(b"<html><body>hello</body></html>", "page.xml")
    assert err.value.message.startswith("page.xml:")


def test_feed_without_entries_is_an_error():
    with pytest.raises(DigestError) as err:
        parse_feed(b"<rss version='2.0'><channel><title>T</title></channel></rss>", "e.rss")
    assert "no entries" in err.value.message


def test_an_author_is_shown_by_name_never_by_address():
    # RSS 2.0's <author> is an e-mail address, the name in brackets; Atom
    # may list several authors
    rss = b"""<rss version="2.0"><channel><title>News</title>
    <item><title>One</title><author>jane.doe@example.org (Jane Doe)</author>
    <description>Text one.</description></item>
    <item><title>Two</title><author>press@example.org</author>
    <description>Text two.</description></item>
    <item><title>Three</title><author>John Roe</author>
    <description>Text three.</description></item>
    </channel></rss>"""
    authors = [dict(e.meta).get("author") for e in parse_feed(rss, "f.rss")]
    assert authors == ["Jane Doe", None, "John Roe"]
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>News</title>
    <entry><title>Both</title><id>x</id><updated>2024-01-02T00:00:00Z</updated>
    <author><name>Ana Lima</name><email>ana@example.org</email></author>
    <author><name>Wei Chen</name></author><summary>Text.</summary></entry></feed>"""
    (entry,) = parse_feed(atom, "f.atom")
    assert dict(entry.meta)["author"] == "Ana Lima, Wei Chen"
