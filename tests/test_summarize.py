from __future__ import annotations

import pytest

from digest.clean import clean
from digest.errors import DigestError
from digest.load import load
from digest.nlp import split_sentences
from digest.summarize import SUMMARIZERS, get_summarizer, summarize
from tests.helpers import article

BODY = (
    "Welcome to our new blog about hospitals.\n\n"
    "The city hospital opened a cancer research centre on Monday with funding from the state. "
    "It will employ 200 researchers.\n\n"
    "The centre focuses on early detection of lung cancer and on new treatments. "
    "Doctors from five countries joined the opening of the research centre.\n\n"
    "The hospital hopes the centre will attract patients from neighbouring countries. "
    "Thanks for reading."
)


@pytest.mark.parametrize("name", sorted(SUMMARIZERS))
def test_every_summarizer_returns_verbatim_sentences_in_order(name):
    a = article("Hospital opens cancer research centre", BODY)
    s = summarize(a, name, 3).summary
    assert 1 <= len(s) <= 3
    assert len(set(s)) == len(s)
    for sentence in s:
        assert sentence in a.body
    positions = [a.body.index(x) for x in s]
    assert positions == sorted(positions)


def test_auto_avoids_greetings_and_sign_offs():
    s = summarize(article("Hospital opens cancer research centre", BODY), "auto", 3).summary
    assert not any(x.startswith(("Welcome", "Thanks")) for x in s)


def test_short_article_is_kept_whole():
    a = article("Short", "Only one sentence here.")
    assert summarize(a, "auto", 3).summary == ("Only one sentence here.",)


def test_unknown_summarizer_is_a_clear_error():
    with pytest.raises(DigestError) as err:
        get_summarizer("nope")
    assert "unknown summarizer 'nope'" in err.value.message and "lexrank" in (err.value.hint or "")


def test_seed_summaries_are_clean(seeds):
    docs, _ = load([str(seeds)])
    for doc in docs:
        a = summarize(clean(doc), "auto", 3)
        assert len(a.summary) == 3
        for sentence in a.summary:
            assert sentence in doc.text  # verbatim from the file
            assert sentence in split_sentences(a.body) or sentence in a.body
            assert not sentence.startswith(("Welcome", "Sincere thanks", "More on", "Join"))
