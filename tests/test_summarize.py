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


def _sentences(a):
    return [x for p in a.paragraphs for x in split_sentences(p, a.language)]


def test_seed_summaries_open_with_a_sentence_that_stands_alone(seeds):
    from digest.summarize import GREETING, needs_previous

    docs, _ = load([str(seeds)])
    for doc in docs:
        a = summarize(clean(doc), "auto", 3)
        ordered = _sentences(a)
        first = a.summary[0]
        assert not GREETING.match(first), (doc.source, first)
        assert not needs_previous(first), (doc.source, first)
        for sentence in a.summary[1:]:
            # a pronoun or connective only right after the sentence it points back to
            if needs_previous(sentence):
                before = ordered[ordered.index(sentence) - 1]
                assert before in a.summary, (doc.source, sentence)


def test_news_keeps_its_lead_and_a_blog_skips_its_greeting():
    news = article(
        "Storm closes city airport",
        "A winter storm closed the city airport on Sunday, stranding 4,000 travellers. "
        "Snow ploughs worked through the night to clear the runways. "
        "The airport expects to reopen on Monday morning.\n\n"
        "Local schools will also stay closed. "
        "Forecasters said more snow could fall later in the week.",
    )
    s = summarize(news, "auto", 2).summary
    assert s[0] == "A winter storm closed the city airport on Sunday, stranding 4,000 travellers."
    blog = article(
        "Why we share our hospital data",
        "Welcome to the second posting of our new blog.\n\n"
        "Hospitals that share data with each other treat rare diseases better. "
        "We learned this when our hospital joined a data network in 2021.\n\n"
        "Sharing hospital data needs trust between hospitals and patients. "
        "Thanks for reading, and see you next month.",
    )
    s = summarize(blog, "auto", 2).summary
    assert not any(x.startswith(("Welcome", "Thanks")) for x in s)
    assert s[0] == "Hospitals that share data with each other treat rare diseases better."


def test_a_pronoun_is_not_left_without_its_referent():
    a = article(
        "Mayor plans new bridge",
        "The mayor announced plans for a new bridge across the river on Friday. "
        "Residents have waited for a bridge for twenty years.\n\n"
        "The council approved money for a new river bridge design. "
        "She said the new bridge would carry trams, bicycles and cars across the river. "
        "Construction starts in spring.",
    )
    s = summarize(a, "auto", 2).summary
    for x in s:
        if x.startswith("She"):
            assert "The council approved money for a new river bridge design." in s


@pytest.mark.parametrize(
    "opener",
    ["Which means", "In other words,", "Even so,", "As such,", "That said,", "What's more,"],
)
def test_a_sentence_that_continues_the_one_before_does_not_open_a_summary(opener):
    from digest.summarize import needs_previous

    assert needs_previous(f"{opener} the clinic will need more nurses.")
    assert not needs_previous("Whichever way the vote goes, the clinic will open in May.")


def test_a_repeated_sentence_is_picked_once():
    text = "The new vaccine cut hospital admissions by half in the trial."
    a = article(
        "Vaccine trial",
        f"{text} Doctors in four countries took part.\n\n{text} "
        "The results will be published in March. Regulators will review the data.",
    )
    s = summarize(a, "auto", 3).summary
    assert s.count(text) == 1


def test_other_languages_use_their_stemmer_and_stop_words():
    body = (
        "Das städtische Krankenhaus hat am Montag ein neues Zentrum für Krebsforschung eröffnet. "
        "Die Forscher des Zentrums untersuchen neue Behandlungen gegen Lungenkrebs. "
        "Ärzte aus fünf Ländern kamen zur Eröffnung des Forschungszentrums. "
        "Das Krankenhaus hofft, dass das Zentrum Patienten aus den Nachbarländern anzieht."
    )
    a = article("Krankenhaus eröffnet Zentrum für Krebsforschung", body, language="de")
    s = summarize(a, "auto", 2).summary
    assert len(s) == 2 and all(x in body for x in s)


def test_dateline_and_byline_fragments_do_not_count_as_the_lead():
    body = (
        "By . Staff Reporter . PUBLISHED: . 08:11 EST, 12 March 2013 . "
        "A man who stole a police car and drove it 40 miles has been jailed for two years. "
        "Daniel Smith, 24, took the patrol car from outside a station while officers were inside. "
        "The chase ended when the car left the road near a river. "
        "Judge Peter Collier said Smith had put lives at risk."
    )
    s = summarize(article("Police car thief jailed", body), "auto", 3).summary
    assert s[0].startswith("A man who stole a police car")
    assert not any(len(x.split()) < 4 for x in s)
    lead = summarize(article("Police car thief jailed", body), "lead", 3).summary
    assert lead[0] == "By ."  # the naive baseline takes the fragments


def test_a_bare_surname_needs_the_sentence_that_introduced_it():
    from digest.summarize import short_names

    sentences = [
        "Dr. Heitham Hassoun spoke at the forum.",
        "The forum lasted two days.",
        "Hassoun, who visited Shanghai, praised the hosts.",
        "Shanghai is a big city.",
    ]
    assert short_names(sentences) == [None, None, "Hassoun", None]


def test_quoted_first_person_is_not_narration():
    from digest.summarize import narration_share

    news = [
        "The council approved the new bridge on Monday.",
        '"We have waited for this for years," said the mayor.',
        "'I am delighted,' she told reporters.",
        "‘Our town needs it.’",
        '"It will change everything. We can finally cross the river.',
        'I think it is wonderful."',
    ]
    assert narration_share(news) == 0.0
    blog = [
        "Welcome to our blog.",
        "I spent the summer travelling in Asia.",
        "We met many hospital leaders.",
        "The hospitals are growing fast.",
    ]
    assert narration_share(blog) == 0.75


def test_reporting_is_preferred_to_a_direct_quote_of_the_same_weight():
    from digest.summarize import standalone_penalty

    quote = '"We are delighted with the new ward," said the hospital director.'
    reported = "The hospital director said staff were delighted with the new ward."
    assert standalone_penalty(quote, 11) > standalone_penalty(reported, 11) == 0.0
    assert standalone_penalty("“It goes on.", 3) > standalone_penalty('"It ends," he said.', 4)
