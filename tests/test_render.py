from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from digest.config import NewsletterConfig
from digest.errors import DigestError
from digest.model import Digest, Section
from digest.render import render, wrap
from tests.helpers import article


def make_digest(*articles):
    return Digest(
        title="News – May 2024",
        period="May 2024",
        intro="What happened.",
        sections=(Section("Health", tuple(articles)),),
    )


def visible_text(html: str) -> str:
    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.out: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag, attrs):
            if tag in ("style", "script", "title"):
                self.skip += 1

        def handle_endtag(self, tag):
            if tag in ("style", "script", "title"):
                self.skip -= 1

        def handle_data(self, data):
            if not self.skip:
                self.out.append(data)

    p = P()
    p.feed(html)
    return " ".join(" ".join(p.out).split())


def test_html_and_text_show_the_same_articles():
    a = article("First story", summary=("Summary one.",), url="https://example.org/1")
    b = article("Second story", summary=("Summary two.",))
    r = render(make_digest(a, b), NewsletterConfig(name="My News"))
    html = r.get("digest.html").decode()
    text = r.get("digest.txt").decode()
    for s in ("First story", "Second story", "Summary one.", "Summary two.", "My News", "May 2024"):
        assert s in visible_text(html)
        assert s in text
    assert 'href="https://example.org/1"' in html
    assert "[1] https://example.org/1" in text
    assert "fonts.googleapis" not in html


def test_untrusted_text_stays_text():
    evil = "<script>alert(1)</script> {{ 7*7 }} {% raw %} </mj-text> a < b &amp; c"
    a = article(evil, summary=(evil,))
    r = render(make_digest(a), NewsletterConfig())
    html = r.get("digest.html").decode()
    text = r.get("digest.txt").decode()
    assert "<script>" not in html
    assert "49" not in visible_text(html) and "49" not in text
    assert evil in visible_text(html)
    assert evil in text


def test_text_lines_are_at_most_78_columns():
    long = "word " * 200
    a = article("T " * 60, summary=(long,), url="https://example.org/" + "x" * 120)
    text = render(make_digest(a), NewsletterConfig()).get("digest.txt").decode()
    for line in text.splitlines():
        assert len(line) <= 78 or re.search(r"https?://\S{40,}", line)


def test_wrap_never_breaks_urls():
    url = "https://example.org/" + "a" * 100
    assert url in wrap(f"see {url} now", 30)


def test_override_extends_the_builtin_template(tmp_path):
    (tmp_path / "digest.txt.j2").write_text(
        '{% include "default:digest.txt.j2" %}CUSTOM FOOTER\n', encoding="utf-8"
    )
    r = render(make_digest(article("A story", summary=("S.",))), NewsletterConfig(), str(tmp_path))
    text = r.get("digest.txt").decode()
    assert "A story" in text and text.rstrip().endswith("CUSTOM FOOTER")


def test_undefined_variable_names_template_and_line(tmp_path):
    (tmp_path / "digest.txt.j2").write_text("line one\n{{ digest.nope }}\n", encoding="utf-8")
    with pytest.raises(DigestError) as err:
        render(make_digest(article("A", summary=("S.",))), NewsletterConfig(), str(tmp_path))
    assert "digest.txt.j2:2" in err.value.message and "nope" in err.value.message


# --- email-grade HTML (#4) ---------------------------------------------------

import datetime as dt  # noqa: E402
from dataclasses import replace  # noqa: E402

from digest.check import check_files, contrast, headings, parse_html  # noqa: E402
from digest.config import EmailConfig  # noqa: E402
from digest.render import add_utm, preheader, text_fragment  # noqa: E402

SENTENCES = (
    "Researchers in three countries agreed on Tuesday to share hospital data on rare diseases.",
    "The agreement covers twelve hospitals and is expected to shorten diagnosis by months.",
    "Patients' groups welcomed the plan but asked for strict limits on who may see the records.",
)


def many(n: int, sections: int = 4, url: bool = True) -> Digest:
    """A digest of n articles over a few themes, each with a long summary."""
    secs = []
    for s in range(sections):
        items = tuple(
            article(
                f"Story {s}-{i}: hospitals {i} and {s} agree on a data plan",
                summary=SENTENCES,
                url=f"https://news.example.org/{s}/{i}?ref=feed" if url else None,
                date=dt.date(2024, 11, 1 + i % 28),
                publisher="Example News",
                source=f"s{s}-{i}.txt",
            )
            for i in range(n // sections)
        )
        secs.append(Section(f"Theme {s}", items))
    return Digest(
        title="News – November 2024",
        period="November 2024",
        intro="What happened.",
        sections=tuple(secs),
    )


def test_html_head_lang_dir_title_metas_and_no_template_comments():
    r = render(make_digest(article("A story", summary=SENTENCES)), NewsletterConfig())
    html = r.get("digest.html").decode()
    assert html.startswith('<!doctype html><html lang="en" dir="ltr"')
    assert "<title>News – May 2024</title>" in html
    assert '<meta name="color-scheme" content="light dark"' in html
    assert '<meta name="supported-color-schemes" content="light dark"' in html
    assert "prefers-color-scheme: dark" in html
    tree = parse_html(html)
    assert all(c.lstrip().startswith(("[if", "<![endif]")) for c in tree.comments)
    assert "{#" not in html and "{%" not in html
    assert [lvl for lvl, _ in headings(html)] == [1, 2, 3]


def test_rtl_language_sets_dir():
    d = replace(make_digest(article("قصة", summary=("جملة أولى هنا.",))), language="ar")
    html = render(d, NewsletterConfig()).get("digest.html").decode()
    assert '<html lang="ar" dir="rtl"' in html


def test_hostile_language_tag_falls_back_to_en():
    d = replace(make_digest(article("A", summary=("S.",))), language='en" onload="x')
    html = render(d, NewsletterConfig()).get("digest.html").decode()
    assert '<html lang="en"' in html and "onload" not in html


def test_preheader_is_plain_text_from_the_lead_within_90_to_140_characters():
    d = make_digest(article("Lead", summary=SENTENCES), article("Second", summary=("S.",)))
    text = preheader(d)
    assert 90 <= len(text) <= 140
    assert text.startswith(SENTENCES[0][:40])
    html = render(d, NewsletterConfig()).get("digest.html").decode()
    body = html.split("<body", 1)[1].split(">", 1)[1]
    assert body.startswith('<div style="display:none;')
    hidden = body.split(">", 1)[1].split("</div>", 1)[0]
    assert hidden.startswith(text)


def test_short_digest_preheader_is_padded_from_titles():
    d = make_digest(article("Lead", summary=("Short.",)), article("Another story title here"))
    assert 90 <= len(preheader(d)) <= 140 or "Another story title here" in preheader(d)


def test_utm_keeps_existing_query_and_fragment():
    params = (("utm_source", "news"), ("utm_medium", "email"), ("utm_campaign", ""))
    assert (
        add_utm("https://e.org/a?b=1&c=x%20y#top", params)
        == "https://e.org/a?b=1&c=x%20y&utm_source=news&utm_medium=email#top"
    )
    assert add_utm("https://e.org/a", params) == "https://e.org/a?utm_source=news&utm_medium=email"
    assert add_utm("https://e.org/a?utm_source=x", params) == (
        "https://e.org/a?utm_source=x&utm_medium=email"
    )


def test_text_fragment_points_at_the_sentence():
    url = text_fragment("https://e.org/a", "Short one-liner, here.")
    assert url == "https://e.org/a#:~:text=Short%20one%2Dliner%2C%20here."
    long = text_fragment("https://e.org/a#s", SENTENCES[0])
    assert long == (
        "https://e.org/a#s:~:text=Researchers%20in%20three%20countries,data%20on%20rare%20diseases."
    )


def test_links_get_utm_and_text_fragments_from_config():
    a = article("A story", summary=SENTENCES, url="https://e.org/a?id=7")
    email = EmailConfig(utm_source="nl", text_fragments=True)
    r = render(make_digest(a), NewsletterConfig(), email=email)
    html = r.get("digest.html").decode()
    text = r.get("digest.txt").decode()
    assert 'href="https://e.org/a?id=7&amp;utm_source=nl"' in html
    assert "https://e.org/a?id=7&amp;utm_source=nl#:~:text=Researchers" in html
    assert "[1] https://e.org/a?id=7&utm_source=nl\n" in text


def test_unsafe_article_urls_are_not_linked():
    a = article("A story", summary=("S.",), url="javascript:alert(1)")
    r = render(make_digest(a), NewsletterConfig())
    assert "javascript:" not in r.get("digest.html").decode()
    assert "javascript:" not in r.get("digest.txt").decode()


def test_link_text_says_where_it_goes():
    a = article("A story", summary=("S.",), url="https://e.org/a", publisher="Example News")
    html = render(make_digest(a), NewsletterConfig()).get("digest.html").decode()
    assert ">Read “A story” on Example News</a>" in html


def test_contrast_is_kept_for_a_light_accent():
    r = render(make_digest(article("A", summary=("S.",))), NewsletterConfig(accent_color="#ffd400"))
    assert not [f for f in check_files(dict(r.files)) if f.rule == "contrast"]


def test_bad_accent_colour_is_an_error():
    with pytest.raises(DigestError, match="accent_color"):
        render(
            make_digest(article("A", summary=("S.",))), NewsletterConfig(accent_color="blue-ish")
        )


@pytest.mark.parametrize("n", [8, 60, 120, 400, 3000])
def test_any_number_of_articles_fits_the_budget_and_checks_clean(n):
    r = render(many(n), NewsletterConfig())
    html = r.get("digest.html")
    assert len(html) <= EmailConfig().max_html_bytes
    findings = check_files(dict(r.files))
    assert not [f for f in findings if f.level == "error"], findings
    if n >= 120:
        assert r.warnings and "budget" in r.warnings[0]
    else:
        assert not r.warnings


def test_fitting_cuts_sentences_before_listing_titles():
    budget = len(render(many(40), NewsletterConfig()).get("digest.html")) - 2000
    r = render(many(40), NewsletterConfig(), email=EmailConfig(max_html_bytes=budget))
    assert len(r.get("digest.html")) <= budget
    assert "summaries cut to 2 sentences" in r.warnings[0]
    assert "listed by title" not in r.warnings[0]
    html = r.get("digest.html").decode()
    assert SENTENCES[1] in html and SENTENCES[2] not in html


def test_fitting_lists_the_rest_by_title_in_html_and_text():
    r = render(many(400), NewsletterConfig())
    html = visible_text(r.get("digest.html").decode())
    text = " ".join(r.get("digest.txt").decode().split())
    assert "listed by title only" in r.warnings[0]
    assert "More Theme 0 stories" in html and "More Theme 0 stories" in text
    for title in (a.title for a in many(400).articles):
        assert (title in html) == (title in text)
        assert title in html


def test_untrusted_text_is_the_same_visible_text_in_html_and_text():
    evil = "<script>alert(1)</script> {{ 7*7 }} {% raw %} </mj-text> a < b &amp; c"
    a = article(evil, summary=(evil,), url="https://e.org/x", publisher=evil)
    b = article("Second " + evil, summary=(evil,))
    d = replace(make_digest(a, b), intro=evil)
    r = render(d, NewsletterConfig(name=evil, address=evil))
    html = r.get("digest.html").decode()
    text = r.get("digest.txt").decode()
    assert "<script>" not in html and "</mj-text> a" not in html
    flat_html = visible_text(html)
    flat_text = " ".join(text.split())
    assert flat_html.count(evil) >= 4
    assert flat_text.count(evil) >= 4
    assert "49" not in flat_html and "49" not in flat_text
    assert not [f for f in check_files(dict(r.files)) if f.level == "error"]


def test_contrast_ratio_matches_wcag():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48


# --- in a real browser --------------------------------------------------------


def test_one_column_without_horizontal_scroll_at_375px(browser):
    long_word = "https://news.example.org/" + "x" * 120
    d = many(12)
    first = replace(d.sections[0].items[0], summary=(f"See {long_word} for details.",))
    d = replace(d, sections=(replace(d.sections[0], items=(first,)), *d.sections[1:]))
    html = render(d, NewsletterConfig(logo_url="https://example.org/logo.png")).get("digest.html")
    page = browser.new_page(viewport={"width": 375, "height": 800})
    try:
        page.route("**/*", lambda route: route.abort())  # nothing leaves the machine
        page.set_content(html.decode())
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
        lefts = page.evaluate(
            "[...document.querySelectorAll('h3')].map(h => Math.round(h.getBoundingClientRect().left))"
        )
        assert len(set(lefts)) == 1  # one column: every article starts at the same x
        page.set_viewport_size({"width": 1000, "height": 800})
        width = page.evaluate(
            "Math.max(...[...document.querySelectorAll('h3')].map(h => h.closest('table').getBoundingClientRect().width))"
        )
        assert width <= 600
    finally:
        page.close()


def test_dark_scheme_turns_the_page_dark_and_keeps_text_light(browser):
    html = render(many(4), NewsletterConfig()).get("digest.html").decode()
    page = browser.new_page(viewport={"width": 600, "height": 800}, color_scheme="dark")
    try:
        page.set_content(html)
        body = page.evaluate("getComputedStyle(document.body).backgroundColor")
        text = page.evaluate("getComputedStyle(document.querySelector('h3').closest('div')).color")
        assert body == "rgb(13, 17, 23)"
        assert text == "rgb(230, 237, 243)"
    finally:
        page.close()


def test_hostile_article_file_builds_to_the_same_visible_text(tmp_path):
    from digest.config import Config
    from digest.pipeline import build

    evil = (
        "<script>alert(1)</script> appeared beside {{ 7*7 }} and {% raw %} and </mj-text>, "
        "a bare < sign and &amp; too."
    )
    (tmp_path / "a.txt").write_text(
        f"Title <script>alert(1)</script> {{{{ 7*7 }}}}\n\nThe council said on Monday that {evil} "
        "The report will be published next week with details.\n",
        encoding="utf-8",
    )
    result = build(Config(), [str(tmp_path)])
    files = dict(result.rendered.files)
    html = visible_text(files["digest.html"].decode())
    text = " ".join(files["digest.txt"].decode().split())
    for s in ("Title <script>alert(1)</script> {{ 7*7 }}", evil):
        assert s in html and s in text
    assert "49" not in html and "49" not in text
    assert "<script>" not in files["digest.html"].decode()


def test_fitting_search_finds_the_same_answer_from_any_guess():
    """_largest with a guess (where the size budget is probably crossed)
    gives the answer plain bisection gives, and probes less when close."""
    from digest.render import _largest

    for hi in (0, 1, 2, 7, 100):
        for answer in range(-1, hi + 1):
            expected = None if answer < 0 else answer
            for guess in (None, -3, 0, 1, answer, answer + 1, answer - 2, hi // 2, hi, hi + 5):
                probes: list[int] = []

                def fits(k: int, answer: int = answer, probes: list[int] = probes) -> bool:
                    probes.append(k)
                    return k <= answer

                assert _largest(0, hi, fits, guess) == expected
    probes = []
    assert _largest(0, 1000, lambda k: probes.append(k) or k <= 700, 699) == 700
    assert len(probes) <= 5  # bisecting 0..1000 alone takes 11
