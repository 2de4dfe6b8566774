from __future__ import annotations

import os

import pytest

from digest.errors import DigestError
from digest.load import Web, load, read_archive
from tests.conftest import CORPUS, stall


def test_loads_text_markdown_and_html(tmp_path, write):
    write("a.txt", "Title A\n\nBody of a.")
    write(
        "b.md",
        "---\ntitle: Front Title\ndate: 2024-11-02\nurl: https://example.org/b\n"
        "author: Ann Lee\ntheme: Diplomacy\n---\n# Heading\n\nSome **bold** text\nwrapped here.\n",
    )
    write(
        "c.html",
        "<html><head><title>Page title</title></head><body><nav>Home | About</nav>"
        "<article><h1>Page title</h1><p>"
        + "This is the main article text of the page, long enough to be extracted. " * 8
        + "</p></article><footer>Copyright</footer></body></html>",
    )
    docs, warnings = load([str(tmp_path)])
    by_kind = {d.kind: d for d in docs}
    assert set(by_kind) == {"text", "markdown", "html"}
    md = by_kind["markdown"]
    assert md.get("title") == "Front Title"
    assert md.get("date") == "2024-11-02"
    assert md.get("theme") == "Diplomacy"
    assert "Some bold text wrapped here." in md.text  # syntax gone, paragraph joined
    assert "main article text" in by_kind["html"].text
    assert "Home | About" not in by_kind["html"].text
    assert warnings == ()


def test_unknown_suffix_is_skipped_with_a_warning(tmp_path, write):
    write("a.txt", "Title\n\nBody.")
    write("notes.docx", "whatever")
    docs, warnings = load([str(tmp_path)])
    assert len(docs) == 1
    assert len(warnings) == 1 and "notes.docx" in warnings[0] and "skipped" in warnings[0]


def test_non_utf8_is_decoded_with_a_warning(tmp_path, write):
    write("latin.txt", "Caf\xe9 au lait\n\nLe caf\xe9 est tr\xe8s bon \xe0 Paris.".encode("cp1252"))
    docs, warnings = load([str(tmp_path)])
    assert "Café" in docs[0].text
    assert "not UTF-8" in warnings[0] and "latin.txt" in warnings[0]


def test_missing_source_is_an_error():
    with pytest.raises(DigestError) as err:
        load(["/nonexistent/folder"])
    assert "no such file or folder" in err.value.message


def test_bad_file_is_skipped_others_load(tmp_path, write):
    write("good.txt", "Title\n\nA body sentence.")
    write("empty.txt", "   \n\n")
    write("bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    write("bad.md", "---\ntitle: [unclosed\n---\nBody.")
    docs, warnings = load([str(tmp_path)])
    assert [d.source.rsplit("/", 1)[-1] for d in docs] == ["good.txt"]
    text = "\n".join(warnings)
    assert "empty.txt" in text and "bin.txt" in text and "bad.md" in text
    assert "invalid YAML" in text


def test_file_signatures_name_the_format(tmp_path, write):
    write("a.txt", b"%PDF-1.7\n...")
    write("b.txt", b"PK\x03\x04rest-of-zip")
    write("c.txt", b"\xff\xd8\xff\xe0JFIF")
    docs, warnings = load([str(tmp_path)])
    assert docs == ()
    assert [w.split(": ", 1)[1] for w in warnings] == [
        "a PDF document, not text; skipped (convert it to text first (e.g. pdftotext))",
        "a ZIP archive (or .docx/.odt), not text; skipped (save the article as .txt, .md or .html)",
        "a JPEG image, not text; skipped (remove it from the sources)",
    ]


def test_binary_without_nul_bytes_is_refused(tmp_path, write):
    write("noise.txt", bytes(range(1, 32)) * 50)
    docs, warnings = load([str(tmp_path)])
    assert docs == () and "binary file, not text" in warnings[0]


def test_truncation_never_splits_a_character(tmp_path, write):
    write("cut.txt", ("Titre\n\n" + "é" * 100).encode("utf-8"))
    docs, warnings = load([str(tmp_path)], max_bytes=10)  # 7 bytes + 1.5 characters
    assert docs[0].text == "Titre\n\né"
    assert len(warnings) == 1 and "larger than 10 bytes" in warnings[0]  # no encoding warning


def test_front_matter_checks(tmp_path, write):
    write(
        "a.md",
        "---\ntitle: T\nurl: JavaScript:alert(1)\ndate: 2024-13-45\nlanguage: fr-CA\n"
        "colour: red\n---\nBody.\n",
    )
    docs, warnings = load([str(tmp_path)])
    meta = dict(docs[0].meta)
    assert meta == {"title": "T", "language": "fr-CA"}
    text = "\n".join(warnings)
    assert "url 'JavaScript:alert(1)' dropped" in text
    assert "date '2024-13-45' is not a date" in text
    assert "unknown front matter key 'colour'" in text


def test_a_special_file_named_on_the_command_line(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(DigestError) as err:
        load([str(fifo)])
    assert "not a regular file" in err.value.message


# --- feeds and the web -------------------------------------------------------

ATOM = (CORPUS / "news.atom").read_bytes()
PAGE = (
    "<html><head><title>Page title</title></head><body><nav>Home | About</nav>"
    "<article><h1>Page title</h1><p>"
    + "This is the main article text of the page, long enough to be extracted. " * 8
    + "</p></article></body></html>"
).encode()


def test_feed_files_give_one_document_per_entry(tmp_path, write):
    write("news.atom", ATOM)
    write("daily.rss", (CORPUS / "news.rss").read_bytes())
    write("feed", ATOM)  # no suffix: recognised by its content
    docs, warnings = load([str(tmp_path)])
    assert warnings == ()
    assert sorted(d.source.rsplit("/", 1)[-1] for d in docs) == [
        "daily.rss#1",
        "daily.rss#2",
        "feed#1",
        "feed#2",
        "feed#3",
        "news.atom#1",
        "news.atom#2",
        "news.atom#3",
    ]
    assert {d.kind for d in docs} == {"feed"}


def test_xml_that_is_not_a_feed_is_skipped_with_a_warning(tmp_path, write):
    write("a.txt", "Title\n\nBody text.")
    write("sitemap.xml", "<urlset><url><loc>https://x.org</loc></url></urlset>")
    docs, warnings = load([str(tmp_path)])
    assert len(docs) == 1
    assert len(warnings) == 1 and "sitemap.xml" in warnings[0] and "skipped" in warnings[0]


def test_feed_and_page_by_url(http_server):
    http_server.routes["/feed"] = (200, {"Content-Type": "application/atom+xml"}, ATOM)
    http_server.routes["/page"] = (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE)
    docs, warnings = load([http_server.url("/feed"), http_server.url("/page")], web=Web(timeout=5))
    assert warnings == ()
    assert [d.source for d in docs] == [
        http_server.url("/feed#1"),
        http_server.url("/feed#2"),
        http_server.url("/feed#3"),
        http_server.url("/page"),
    ]
    page = docs[-1]
    assert page.kind == "web" and "main article text" in page.text
    assert page.get("url") == http_server.url("/page")


def test_a_failing_or_stalling_source_is_skipped_and_the_others_load(http_server, write, tmp_path):
    write("local.txt", "A local story\n\nIt has a body sentence.")
    http_server.routes["/good"] = (200, {"Content-Type": "application/rss+xml"}, ATOM)
    http_server.routes["/broken"] = (500, {"Content-Type": "text/plain"}, b"boom")
    http_server.routes["/stall"] = stall
    sources = [
        http_server.url("/broken"),
        str(tmp_path),
        http_server.url("/stall"),
        http_server.url("/good"),
    ]
    docs, warnings = load(sources, web=Web(timeout=0.5))
    assert len(docs) == 4  # the local file and three entries
    assert warnings == (
        f"{http_server.url('/broken')}: HTTP 500 Internal Server Error; skipped "
        "(the server failed; try again later)",
        f"{http_server.url('/stall')}: no response within 0.5 s (the server stalled); skipped "
        "(try again later, or raise build.timeout)",
    )


def test_fetch_full_uses_the_linked_page(http_server):
    feed = f"""<rss version="2.0"><channel><title>T</title>
    <item><title>Page title</title><link>{http_server.url("/page")}</link>
    <description>Teaser only.</description><pubDate>Tue, 22 Oct 2024 10:00:00 GMT</pubDate></item>
    <item><title>Gone</title><link>{http_server.url("/gone")}</link>
    <description>The feed text stays.</description></item>
    </channel></rss>""".encode()
    http_server.routes["/feed"] = (200, {"Content-Type": "application/rss+xml"}, feed)
    http_server.routes["/page"] = (200, {"Content-Type": "text/html"}, PAGE)
    docs, warnings = load([http_server.url("/feed")], web=Web(timeout=5, fetch_full=True))
    assert "main article text" in docs[0].text and "Teaser" not in docs[0].text
    assert docs[0].get("date") == "2024-10-22"  # the feed's metadata is kept
    assert docs[1].text == "The feed text stays."
    assert len(warnings) == 1 and "#2: full article not fetched" in warnings[0]
    assert "HTTP 404" in warnings[0]
    docs, _ = load([http_server.url("/feed")], web=Web(timeout=5))
    assert docs[0].text == "Teaser only."


def test_entry_without_text_is_skipped_with_a_hint(tmp_path, write):
    write(
        "f.rss",
        "<rss version='2.0'><channel><title>T</title><item><title>Only a title</title>"
        "</item><item><title>B</title><description>Has text.</description></item></channel></rss>",
    )
    docs, warnings = load([str(tmp_path)])
    assert len(docs) == 1
    assert "'Only a title' has no text" in warnings[0] and "--fetch-full" in warnings[0]


def test_read_archive(tmp_path):
    assert read_archive(str(tmp_path)).issues == ()
    (tmp_path / "archive.json").write_text('{"issues": [{"key": "2024-11", "number": 4}]}')
    assert read_archive(str(tmp_path)).number_for("2024-11") == 4
    (tmp_path / "archive.json").write_text("{broken")
    with pytest.raises(DigestError) as err:
        read_archive(str(tmp_path))
    assert "archive.json: not a valid digest archive" in err.value.message


def test_fetch_full_skips_entries_dated_outside_the_month(http_server):
    feed = f"""<rss version="2.0"><channel><title>T</title>
    <item><title>October</title><link>{http_server.url("/oct")}</link>
    <description>October teaser.</description><pubDate>Tue, 22 Oct 2024 10:00:00 GMT</pubDate></item>
    <item><title>November</title><link>{http_server.url("/nov")}</link>
    <description>November teaser.</description><pubDate>Tue, 12 Nov 2024 10:00:00 GMT</pubDate></item>
    </channel></rss>""".encode()
    http_server.routes["/feed"] = (200, {"Content-Type": "application/rss+xml"}, feed)
    http_server.routes["/nov"] = (200, {"Content-Type": "text/html"}, PAGE)
    web = Web(timeout=5, fetch_full=True, since="2024-11-01", until="2024-11-30")
    docs, warnings = load([http_server.url("/feed")], web=web)
    assert warnings == ()
    assert [p for p, _ in http_server.requests] == ["/feed", "/nov"]
    assert docs[0].text == "October teaser."
    assert "main article text" in docs[1].text


def test_the_same_page_reads_the_same_every_time_in_one_process(tmp_path, write):
    # trafilatura's own deduplication caches across calls and would empty it
    write("page.html", PAGE)
    texts = [load([str(tmp_path)])[0][0].text for _ in range(5)]
    assert all("main article text" in t for t in texts)
    assert len(set(texts)) == 1


def test_count_files_sizes_the_worker_pool_without_reading(tmp_path):
    """Files under folders (hidden ones left out), named files, and no URLs."""
    from digest.load import count_files

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("x")
    (tmp_path / "a" / "two.md").write_text("x")
    (tmp_path / "a" / ".hidden.txt").write_text("x")
    (tmp_path / "a" / ".git").mkdir()
    (tmp_path / "a" / ".git" / "config").write_text("x")
    (tmp_path / "a" / "sub").mkdir()
    (tmp_path / "a" / "sub" / "three.html").write_text("x")
    (tmp_path / "b.txt").write_text("x")
    sources = [str(tmp_path / "a"), str(tmp_path / "b.txt"), "https://example.org/feed.xml"]
    assert count_files(sources) == 4
    assert count_files([str(tmp_path / "missing")]) == 1  # load() reports it


def _feed_linking(link: str) -> bytes:
    return f"""<rss version="2.0"><channel><title>T</title>
    <item><title>Entry</title><link>{link}</link>
    <description>The feed's own text.</description></item>
    </channel></rss>""".encode()


def test_fetch_full_does_not_follow_a_feed_file_into_the_private_network(
    http_server, tmp_path, write
):
    """A feed is someone else's text: its links to loopback or private
    addresses (an intranet page, a cloud metadata address) are not fetched
    into the newsletter; the entry keeps the feed's text, with a warning."""
    http_server.routes["/secret"] = (200, {"Content-Type": "text/html"}, PAGE)
    write("f.rss", _feed_linking(http_server.url("/secret")))
    docs, warnings = load([str(tmp_path)], web=Web(timeout=5, fetch_full=True))
    assert http_server.requests == []
    assert docs[0].text == "The feed's own text."
    assert len(warnings) == 1
    assert "full article not fetched" in warnings[0]
    assert "127.0.0.1 is not a public address, and the feed does not come from it" in warnings[0]


def test_fetch_full_follows_links_to_the_feeds_own_host_only(http_server):
    """An intranet feed may link to its own server; not to another private
    host, directly or by a redirect."""
    port = http_server.server_port
    http_server.routes["/page"] = (200, {"Content-Type": "text/html"}, PAGE)
    http_server.routes["/hop"] = (302, {"Location": f"http://localhost:{port}/page"}, b"")
    for link, seen in [
        (http_server.url("/page"), ["/feed", "/page"]),
        (f"http://localhost:{port}/page", ["/feed"]),
        (http_server.url("/hop"), ["/feed", "/hop"]),
    ]:
        http_server.requests.clear()
        http_server.routes["/feed"] = (
            200,
            {"Content-Type": "application/rss+xml"},
            _feed_linking(link),
        )
        docs, warnings = load([http_server.url("/feed")], web=Web(timeout=5, fetch_full=True))
        assert [p for p, _ in http_server.requests] == seen
        if seen[-1] == "/page":
            assert "main article text" in docs[0].text and warnings == ()
        else:
            assert docs[0].text == "The feed's own text."
            assert "localhost is not a public address" in warnings[0]


def test_fetch_full_checks_the_address_it_connects_to_not_only_the_name(
    http_server, tmp_path, write, monkeypatch
):
    """DNS rebinding: a name that resolves to a public address when checked
    and to a private one when connected must not reach the private one.
    (The name service is the one part simulated: the server is real.)"""
    import socket

    real = socket.getaddrinfo
    port = http_server.server_port
    asked: list[str] = []

    def rebinding(host, *args, **kwargs):
        if host != "rebind.example":
            return real(host, *args, **kwargs)
        asked.append(host)
        address = "93.184.216.34" if len(asked) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    http_server.routes["/secret"] = (200, {"Content-Type": "text/html"}, PAGE)
    write("f.rss", _feed_linking(f"http://rebind.example:{port}/secret"))
    docs, warnings = load([str(tmp_path)], web=Web(timeout=5, fetch_full=True))
    assert len(asked) == 2  # checked, then connected: the second answer is refused
    assert http_server.requests == []
    assert docs[0].text == "The feed's own text."
    assert "rebind.example is not a public address" in warnings[0]


def test_a_page_the_precise_extraction_rejects_is_read_in_balanced_mode(tmp_path, monkeypatch):
    # On some layouts (link-dense study texts, pages of many small blocks)
    # trafilatura's precision mode finds no article at all; the page must
    # still be read rather than skipped as "no article text".
    import trafilatura

    real = trafilatura.extract
    modes = []

    def picky(text, **options):
        modes.append(options.get("favor_precision", False))
        return None if options.get("favor_precision") else real(text, **options)

    monkeypatch.setattr(trafilatura, "extract", picky)
    page = tmp_path / "study.html"
    page.write_text(
        "<html><head><title>Reading notes</title></head><body><article><h1>Reading notes</h1>"
        + "<p>The lawyer describes his chambers and the two copyists already employed there, "
        "each of whom works well for half of the day and badly for the other half.</p>"
        * 3
        + "</article></body></html>",
        encoding="utf-8",
    )
    docs, warnings = load([str(page)])
    assert modes == [True, False]
    assert not warnings
    assert "two copyists" in docs[0].text


def test_a_box_heading_is_not_the_title_the_title_element_is(tmp_path):
    # Without social metadata, trafilatura can take a sidebar's heading for
    # the headline; the <title> element (less the site name) names the article
    body = (
        "<p>The regional council approved the new cross-border clinic on Tuesday, "
        "after two years of talks between the hospitals on both sides.</p>" * 4
    )
    page = tmp_path / "clinic.html"
    page.write_text(
        "<html><head><title>Council approves cross-border clinic | Example News</title></head>"
        f"<body><div class='story'>{body}</div><aside><h2>Most Popular</h2><ul>"
        "<li><a href='/a'>Another story</a></li></ul></aside></body></html>",
        encoding="utf-8",
    )
    from digest.load import page_title

    assert (
        page_title("Most Popular", page.read_text(), None) == "Council approves cross-border clinic"
    )
    # a real headline that the <title> words differently stays
    longer = "For the holidays, let us all get behind the conversation-starter tee shirt"
    assert page_title(longer, "<title>Designer statement shirts - Shop</title>") == longer
    assert page_title("Clinic opens", "<title>Example News</title>") == "Clinic opens"
    # trafilatura's title is the <title> itself: the site's name goes
    both = "Get your code covered | Code | Jane Doe"
    assert page_title(both, f"<title>{both}</title>") == "Get your code covered"
    assert page_title(
        "Brexit - what happens next", "<title>Brexit - what happens next</title>"
    ) == ("Brexit - what happens next")
    docs, _ = load([str(page)])
    assert docs[0].get("title") != "Most Popular"


def test_the_page_own_publication_date_wins_and_a_day_first_misreading_is_undone():
    from digest.load import page_date

    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2016-11-28T05:00:00Z"}</script>'
    micro = '<time itemprop="datePublished" content="2016-11-28">December 5, 2016 issue</time>'
    og = '<meta property="article:published_time" content="2016-11-28T05:00:00+00:00">'
    for page in (ld, micro, og):
        assert page_date("2016-12-05", page) == "2016-11-28"
    # "10/04/16" printed, read day-first; the <time> element says October 4
    printed = '<time datetime="2016-10-04T05:29-0400">10/04/16 05:29 PM EDT</time>'
    assert page_date("2016-04-10", printed) == "2016-10-04"
    # nothing to go on: trafilatura's date stays, and so does an unrelated one
    assert page_date("2016-04-10", "<p>No dates here.</p>") == "2016-04-10"
    assert page_date("2016-04-10", '<time datetime="2016-04-11">') == "2016-04-10"
    assert page_date(None, "<p>No dates here.</p>") is None


def test_a_page_of_controls_is_no_article_but_a_short_one_is(tmp_path):
    login = tmp_path / "login.html"
    login.write_text(
        "<html><head><title>Login</title></head><body><form><input name='u'>"
        "<button>Sign in</button></form></body></html>",
        encoding="utf-8",
    )
    brief = tmp_path / "brief.html"
    brief.write_text(
        "<html><head><title>新诊所</title></head><body><article>"
        "<p>市长周二为新诊所揭幕，医生们将在那里工作。</p></article></body></html>",
        encoding="utf-8",
    )
    docs, warnings = load([str(login), str(brief)])
    assert [d.source.rsplit("/", 1)[-1] for d in docs] == ["brief.html"]
    assert len(warnings) == 1 and "login.html: no article text found" in warnings[0]


def test_list_items_of_a_page_lose_their_bullet(tmp_path):
    page = tmp_path / "folders.html"
    page.write_text(
        "<html><head><title>Folders</title></head><body><article><h1>Folders</h1>"
        "<p>Here are the folders you need, one for each kind of email you get every day.</p>"
        "<ul><li>Today: everything that requires a response today.</li>"
        "<li>This week: what can wait a few days.</li></ul>"
        "<p>That is all there is to it, and it works for everyone.</p></article></body></html>",
        encoding="utf-8",
    )
    docs, _ = load([str(page)])
    lines = docs[0].text.splitlines()
    assert "Today: everything that requires a response today." in lines
    assert not any(line.startswith("- ") for line in lines)


def test_a_copyright_year_is_not_a_publication_date():
    from digest.load import page_date

    assert page_date("1998-01-01", "<footer>Portions © 1998–2015 by contributors</footer>") is None
    assert page_date("2016-01-01", "<p>Published January 1, 2016</p>") == "2016-01-01"
