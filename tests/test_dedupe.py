"""The same story from two sources becomes one item with "also in" links."""

from __future__ import annotations

import datetime as dt

import pytest

from digest.dedupe import canonical_url, dedupe
from digest.model import Link
from tests.helpers import article

STORY = (
    "Malaria cases in northern Mozambique fell by a third in a year after a campaign "
    "handed out two million treated bed nets. Health workers visited every village in "
    "the province and showed families how to hang and care for the nets. The ministry "
    "now plans the same campaign in two more provinces."
)
OTHER = (
    "Brazil opened a research centre for tropical diseases in Manaus, with laboratories "
    "for dengue, Zika and Chagas disease. Scientists from Europe and Africa will work at "
    "the centre under a ten-year collaboration that starts next spring."
)


def test_canonical_url_strips_tracking_and_cosmetics():
    assert (
        canonical_url("HTTP://WWW.Example.org/a/b/?utm_source=x&b=2&a=1&fbclid=z&gclid=q#top")
        == "https://example.org/a/b?a=1&b=2"
    )
    assert canonical_url("https://example.org/a?id=1") != canonical_url(
        "https://example.org/a?id=2"
    )
    assert canonical_url("https://example.org:8080/a") == "https://example.org:8080/a"


def test_same_url_after_tracking_is_one_item_with_also_in():
    a = article(
        "Malaria falls",
        STORY,
        url="https://wire.example.com/m?utm_source=feed",
        publisher="Global Health Wire",
        date="2024-11-05",
    )
    b = article(
        "Malaria cases fall",
        "Malaria cases fell.",
        url="https://www.wire.example.com/m/?fbclid=1",
        publisher="Health Policy Daily",
    )
    c = article("Brazil", OTHER)
    out = dedupe([a, b, c])
    assert [x.title for x in out] == ["Malaria falls", "Brazil"]
    assert out[0].also_in == (
        Link("Health Policy Daily", "https://www.wire.example.com/m/?fbclid=1"),
    )


def test_near_identical_text_is_one_item_the_fullest_copy_leads():
    short = article(
        "Bed nets cut malaria",
        STORY.rsplit(".", 2)[0] + ".",
        source="feed.rss#2",
        date="2024-11-12",
    )
    full = article(
        "Malaria cases fall after bed net campaign",
        STORY + " Donors will help.",
        url="https://wire.example.com/m",
        source="wire.txt",
    )
    out = dedupe([short, full])
    assert len(out) == 1
    assert out[0].title == "Malaria cases fall after bed net campaign"
    assert out[0].also_in == (Link("feed.rss", None),)
    assert out[0].date == dt.date(2024, 11, 12)  # the undated lead takes its copy's date


def test_copies_that_differ_only_in_typography_are_one_item():
    """A feed's copy and the page often differ in apostrophes (’ or '),
    ligatures (ﬁ) or full-width characters; the words are the same."""
    plain = (
        "The clinic's first year didn't go as planned, but the staff wasn't "
        "discouraged: they'd find funding, and the region's families wouldn't wait. "
        "It's now the province's busiest clinic, and the ministry's plan is to open "
        "two more before the year's end, in the districts that can't reach a hospital."
    )
    fancy = plain.replace("'", "’").replace("fi", "ﬁ").replace("clinic", "ｃｌｉｎｉｃ")
    a = article("Clinic's first year", plain, source="page.html")
    b = article("Clinic’s first year", fancy, source="feed.rss#1")
    assert len(dedupe([a, b])) == 1
    assert len(dedupe([a, article("Another story", OTHER, source="other.txt")])) == 2


def test_different_stories_stay_apart():
    out = dedupe([article("A", STORY), article("B", OTHER), article("C", "Short one. Two.")])
    assert len(out) == 3 and all(not a.also_in for a in out)


def test_an_unsafe_url_is_never_an_also_in_link():
    a = article("Malaria falls", STORY + " More.", publisher="Wire")
    b = article("Malaria falls too", STORY, url="javascript:alert(1)", publisher="Evil")
    (merged,) = dedupe([a, b])
    assert merged.also_in == (Link("Evil", None),)


def test_shared_boilerplate_does_not_make_stories_the_same():
    boiler = (
        "This story is part of our series on global health. Sign up for the newsletter to get "
        "every story of the series in your inbox each month, free of charge."
    )
    import random

    rng = random.Random(7)
    words = [f"word{i}" for i in range(3000)]
    arts = [
        article(f"Story {i}", " ".join(rng.choices(words, k=80)) + ". " + boiler) for i in range(60)
    ]
    assert len(dedupe(arts)) == 60


@pytest.mark.parametrize("table", [True, False], ids=["pair table", "sorted pairs"])
def test_similar_pairs_are_those_a_pairwise_comparison_finds(table, monkeypatch):
    """The indexed count agrees with comparing every pair directly, where a
    shingle in more than COMMON texts does not count; whether shared
    shingles are counted in a table of all pairs or by sorting, and with
    64-bit hashes that share their low bits (which the count by bucket
    that skips lone shingles must not confuse)."""
    import random
    from collections import Counter

    from digest import dedupe
    from digest.dedupe import COMMON, _same, similar_pairs

    if not table:
        monkeypatch.setattr(dedupe, "PAIR_TABLE", 0)
    rng = random.Random(8)
    for _ in range(60):
        pool = rng.randint(30, 120)
        values = [rng.getrandbits(64) - 2**63 for _ in range(pool)]
        for k in rng.sample(range(pool), pool // 3):  # same low 16 bits as another
            values[k] = (values[k] & ~0xFFFF) | (values[rng.randrange(pool)] & 0xFFFF)
        texts = [
            frozenset(rng.sample(values, rng.randint(0, min(pool, 60))))
            for _ in range(rng.randint(0, COMMON + 12))
        ]
        seen_in = Counter(h for t in texts if len(t) >= 20 for h in t)
        expected = [
            (i, j)
            for i in range(len(texts))
            for j in range(i + 1, len(texts))
            if _same(
                len(texts[i]),
                len(texts[j]),
                sum(1 for h in texts[i] & texts[j] if seen_in[h] <= COMMON),
            )
        ]
        assert similar_pairs(texts) == expected
