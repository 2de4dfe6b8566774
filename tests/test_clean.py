from __future__ import annotations

import datetime as dt

import pytest

from digest.clean import clean, find_date, repeated, tidy_author
from digest.load import load
from digest.model import Document

SEED_TITLES = {
    "000": "Global Leaders Gather for Shanghai 21st Century International Medical Forum",
    "001": "Global Perspective: Recovery and Renewal in Asia",
    "002": "Global Healthcare Collaborations",
    "003": "Health specialists from China and the U.S. urge increased cooperation in the medical field",
    "004": "Healthcare Diplomacy",
}


@pytest.fixture(scope="module")
def seed_articles():
    from tests.conftest import SEEDS

    docs, _ = load([str(SEEDS)])
    return {d.source.rsplit("/", 1)[-1][:3]: clean(d) for d in docs}


def test_seed_titles_are_the_real_headlines(seed_articles):
    assert {k: a.title for k, a in seed_articles.items()} == SEED_TITLES


def test_site_chrome_captions_and_cta_are_not_body(seed_articles):
    body = "\n".join(p for a in seed_articles.values() for p in a.paragraphs)
    for junk in (
        "Search Menu Globe Arrow Right Close",
        "Building with trees",
        "Stethoscope on top of a map",
        "program book.",
        "More on Global Collaborations",
        "Join the Conversation",
        "for TROIB News",
        "VP & Medical Director",
    ):
        assert junk not in body
    assert not any(p == "International" for a in seed_articles.values() for p in a.paragraphs)


def test_repeated_bio_and_pull_quotes_are_removed(seed_articles):
    a = seed_articles["001"]
    assert not any("previously served" in p for p in a.paragraphs)
    d = seed_articles["004"]
    # The pull quote is gone, the paragraph it quoted stays, once.
    quoted = [p for p in d.paragraphs if "breathtaking advances" in p]
    assert len(quoted) == 1 and not quoted[0].startswith('"')


def test_metadata_author_publisher_date(seed_articles):
    news = seed_articles["003"]
    assert (news.author, news.publisher, news.date) == (
        "Mathilde Moreau",
        "TROIB News",
        dt.date(2024, 11, 16),
    )
    assert seed_articles["002"].author == "Heitham Hassoun"
    assert seed_articles["004"].date is None


def test_repeated_rules():
    blocks = [
        '"A pull quote that repeats a sentence of the body text."',
        "Intro. A pull quote that repeats a sentence of the body text. More words follow here.",
        "Jane Doe is a professor of medicine at the university and writes this column monthly.",
        "Jane Doe is a professor of medicine at a university and writes this column monthly.",
    ]
    assert repeated(blocks) == {0, 2, 3}


def test_find_date_forms():
    assert find_date("It happened on 3 March 2023 in Paris.") == dt.date(2023, 3, 3)
    assert find_date("Posted 2022-07-01.") == dt.date(2022, 7, 1)
    assert find_date("On February 30, 2024 nothing happened.") is None
    assert find_date("No date here.") is None


def test_hard_wrapped_text_is_joined(write, tmp_path):
    write(
        "w.txt", "A Headline Here\n\nThis sentence was wrapped\nby an old editor at column forty.\n"
    )
    docs, _ = load([str(tmp_path)])
    a = clean(docs[0])
    assert a.paragraphs == ("This sentence was wrapped by an old editor at column forty.",)


def test_text_without_punctuation_is_kept(write, tmp_path):
    write("n.txt", "no punctuation at all here just words\nand more words without any end")
    docs, _ = load([str(tmp_path)])
    a = clean(docs[0])
    assert a.title
    assert a.paragraphs  # nothing looked like prose, but the article is not lost


def test_find_date_more_forms():
    assert find_date("The forum took place on November 16, 2024, in Beijing.") == dt.date(
        2024, 11, 16
    )
    assert find_date("Saturday, Nov. 16th 2024") == dt.date(2024, 11, 16)
    assert find_date("on the 16th of November 2024") == dt.date(2024, 11, 16)
    assert find_date("Held November 16-17, 2024 in Geneva") == dt.date(2024, 11, 16)
    assert find_date("Held 16–17 November 2024 in Geneva") == dt.date(2024, 11, 16)
    assert find_date("Posted 2024/11/16") == dt.date(2024, 11, 16)


def test_find_date_invents_nothing():
    assert find_date("The 2021 forum was held in Shanghai.") is None  # a year alone
    assert find_date("The lesson from summer 2023 was this.") is None
    assert find_date("Patients may 5, 2024 be seen") is None  # "may" the verb
    assert find_date("Order 12 March 0099 or 2024-13-45") is None


def test_a_dateline_dropped_as_a_label_still_dates_the_article(write):
    from digest.model import Document

    doc = Document(
        "a.txt",
        "Big News Headline\n\nMarch 3, 2023\n\nThe body says things. It mentions 4 July 2021 too.",
        "text",
    )
    assert clean(doc).date == dt.date(2023, 3, 3)


def test_each_seed_date_stated_in_the_text_is_found(seed_articles):
    dated = {k: a.date for k, a in seed_articles.items() if a.date}
    assert dated == {"003": dt.date(2024, 11, 16)}  # the only full date the seeds state


def test_safe_url_keeps_only_http_and_mailto():
    from digest.clean import safe_url

    assert safe_url(" https://example.org/a?b=1 ") == "https://example.org/a?b=1"
    assert safe_url("mailto:ed@example.org") == "mailto:ed@example.org"
    for bad in (
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        " data:text/html,x",
        "vbscript:x",
        "file:///etc/passwd",
        "http:alert(1)",
        "java\nscript:x",
        "https://exa mple.org",
        "/relative/path",
        "",
    ):
        assert safe_url(bad) is None, bad


def test_controls_and_bidi_overrides_are_removed_and_long_titles_shortened():
    from digest.clean import shorten, strip_controls
    from digest.model import Document

    assert strip_controls("a\x00b\x1bc\u202ed\td\ne\x85f") == "abcd\td\nef"
    long = "word " * 500
    assert len(shorten(long)) <= 200 and shorten(long).endswith("word…")
    a = clean(
        Document("x.md", "Body sentence here.\x07", "markdown", (("title", "T\x00i\u202etle"),))
    )
    assert a.title == "Title" and a.paragraphs == ("Body sentence here.",)


def test_repeated_stays_fast_on_huge_texts():
    import time

    blocks = [
        f"Line number {i} of a long report about the regional hospital budget."
        for i in range(20000)
    ]
    blocks[5] = blocks[19990]  # an exact repeat far apart is still found
    started = time.monotonic()
    drop = repeated(blocks)
    assert time.monotonic() - started < 10
    assert {5, 19990} <= drop


@pytest.mark.parametrize(
    ("raw", "tidy"),
    [
        ("Oli Coleman View author archive Get author RSS feed", "Oli Coleman"),
        ("Jeremy Herron More stories by Jeremy Herron", "Jeremy Herron"),
        ("Alyssa Newcomb Twitter Email", "Alyssa Newcomb"),
        ("Sam Stein Senior Politics Editor", "Sam Stein"),
        ("Steve Gillman Contributor", "Steve Gillman"),
        ("Cindy Mangomini December", "Cindy Mangomini"),
        ("Nathan Willis March 25, 2015", "Nathan Willis"),
        ("Jack Mirkinson Jack Mirkinson is an editor", "Jack Mirkinson"),
        ("Margaret Talev margarettalev", "Margaret Talev"),
        ("Mike Cason; Mcason Com", "Mike Cason"),
        ("Julia Carrie Wong; Sam Levin", "Julia Carrie Wong, Sam Levin"),
        # no name at all: no author rather than "By January"
        ("Wednesday January", None),
        ("Dec", None),
        ("Username", None),
        ("F", None),
        # names that look like the words it removes stay whole
        ("Theresa May", "Theresa May"),
        ("Jamie Read", "Jamie Read"),
        ("AOL Staff", "AOL Staff"),
        ("José Álvarez de la Vega", "José Álvarez de la Vega"),
    ],
)
def test_author_fields_from_pages_lose_what_byline_widgets_add(raw, tidy):
    assert tidy_author(raw) == tidy


def test_a_headline_repeated_in_the_body_is_not_taken_for_a_byline():
    # "X for Y" reads like "Jane Doe for Example News"; a headline can too
    doc = Document(
        source="pencil.html",
        kind="html",
        text="New tablets expected in early 2017.\n\nPencil Rumored for March of 2017\n\n"
        "Apple may introduce a second pencil in March, according to reports from its "
        "suppliers in Asia.",
        meta=(("title", "Pencil Rumored for March of 2017"),),
    )
    assert clean(doc).author is None


def test_the_headline_of_a_whole_page_copied_with_its_menus_is_found():
    # a page copied out of a browser: dozens of menu lines before the
    # headline, so the first headline-shaped line is a menu's, far from prose
    menu = [f"{section} News" for section in ("World", "Business", "Health", "Science")] * 6
    story = [
        "Sections",
        "Today's paper, March 3, 2023",
        *menu,
        "Trending Now",
        "Hospitals in three countries agree to share rare disease data",
        "Hospitals in three countries agree to share rare disease data",
        "By Ana Lima",
        "November 16, 2024",
        "Photo: Getty Images",
        "Hospitals in Brazil, Kenya and Vietnam signed an agreement on Monday to pool "
        "their records of rare diseases, so that doctors can compare cases across borders.",
        "The agreement covers more than forty conditions that each hospital sees only a few "
        "times a year, and it starts with a shared registry in the spring.",
        "Doctors said the registry would shorten the time to a diagnosis for many families.",
        "Follow us on Twitter",
    ]
    doc = Document(source="page.txt", kind="text", text="\n\n".join(story))
    article = clean(doc)
    assert article.title == "Hospitals in three countries agree to share rare disease data"
    assert article.paragraphs[0].startswith("Hospitals in Brazil, Kenya and Vietnam")
    # its byline and dateline are the ones under it, not the menu's
    assert (article.author, str(article.date)) == ("Ana Lima", "2024-11-16")
    # a page whose headline is at the top keeps the usual reading
    top = Document(source="top.txt", kind="text", text="\n\n".join(story[28:]))
    assert story[28] == "Hospitals in three countries agree to share rare disease data"
    assert clean(top).title == "Hospitals in three countries agree to share rare disease data"
