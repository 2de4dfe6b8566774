from __future__ import annotations

import tomllib
from dataclasses import replace

import pytest

from digest.classify import (
    background,
    classify,
    group,
    report,
    report_json,
    report_table,
    suggest,
    suggestion_toml,
    word_vectors,
)
from digest.config import parse_config
from digest.errors import DigestError
from digest.model import Theme
from digest.nlp import stemmer
from tests.helpers import article

THEMES = (
    Theme("Sport", "Matches, players and tournaments.", ("football", "match", "goal")),
    Theme("Money", "Markets, companies and profits.", ("profit", "shares", "bank")),
)

FOOTBALL = [
    article(
        "Cup final goes to extra time",
        "The football match ended with a late goal by the captain. The striker scored "
        "twice and the club's fans sang until the referee blew the final whistle.",
    ),
    article(
        "Striker signs for the club",
        "The striker joined the club after a season of goals. The manager said the "
        "squad needed pace before the league resumes and the fans welcomed him.",
    ),
    article(
        "Referee row after derby",
        "Fans of both clubs criticised the referee after the derby. The manager said "
        "his squad deserved a penalty and the striker was booked.",
    ),
]
BANKING = [
    article(
        "Bank profits rise",
        "The bank reported a record profit and its shares rose. Investors welcomed "
        "the dividend and analysts raised their forecasts for lending.",
    ),
    article(
        "Lender cuts forecasts",
        "The lender cut its forecasts as investors worried about loans. Analysts said "
        "the dividend was safe and lending would recover.",
    ),
    article(
        "Investors flee lenders",
        "Investors sold the shares of lenders as analysts warned about bad loans and "
        "the dividend of the biggest lender.",
    ),
]
BAKING = [
    article(
        "Sourdough secrets",
        "Bakers knead the dough, let the yeast rise overnight and bake the loaf in a "
        "hot oven until the crust is golden.",
    ),
    article(
        "A loaf for beginners",
        "Flour, water, yeast and salt: knead the dough for ten minutes, let it rise, "
        "then bake the loaf in the oven.",
    ),
    article(
        "Why bread needs time",
        "Slow rising gives the yeast time to flavour the dough; bakers bake the loaf "
        "when the dough has doubled, in a hot oven.",
    ),
]


def test_best_theme_wins_and_weak_matches_go_to_other():
    arts = [
        article("Cup final", "The football match ended with a late goal by the captain."),
        article("Bank results", "The bank reported a record profit and its shares rose."),
        article("Gardening", "Tulips need water and sunlight in early spring."),
    ]
    out = classify(arts, THEMES, threshold=0.05, other="Elsewhere")
    assert [a.theme for a in out] == ["Sport", "Money", "Elsewhere"]
    assert all(len(a.scores) == 2 for a in out)
    assert out[0].theme_score == dict(out[0].scores)["Sport"]
    assert out[2].theme_fit < 0.05 <= out[0].theme_fit


def test_the_deciding_words_are_the_articles_own_and_favour_the_winner():
    out = classify(FOOTBALL[:1] + BANKING[:1], THEMES, 0.05, "Other")
    assert {"football", "goal", "match"} <= set(out[0].reasons)
    assert {"bank", "profit", "shares"} & set(out[1].reasons)
    assert not {"bank", "profit", "shares"} & set(out[0].reasons)


def test_a_deciding_word_is_shown_as_the_batch_writes_it_most_often():
    # "goals" and "goal" share a stem: the form the batch uses most is shown,
    # the title counting as often as it is written (not weighted up)
    arts = [
        article("Goal of the season", "Three goals, two goals in the second half, more goals."),
        article("Bank results", "The bank reported a record profit and its shares rose."),
    ]
    out = classify(arts, THEMES, 0.05, "Other")
    assert out[0].theme == "Sport"
    assert "goals" in out[0].reasons
    assert "goal" not in out[0].reasons


def test_recentring_pulls_in_articles_that_use_none_of_the_keywords():
    # "Referee row after derby" shares no word with the themes' names,
    # descriptions or keywords; the football articles the theme attracted do.
    arts = FOOTBALL + BANKING
    out = classify(arts, THEMES, 0.0, "Other")
    assert [a.theme for a in out] == ["Sport"] * 3 + ["Money"] * 3
    derby = out[2]
    assert derby.title == "Referee row after derby"
    assert dict(derby.scores)["Sport"] > dict(derby.scores)["Money"]
    assert "referee" in derby.reasons or "striker" in derby.reasons


def test_a_theme_that_attracted_more_of_the_batch_does_not_take_a_better_fit():
    # A club's finances: shares, a bank loan, profits. It fits Money and not
    # Sport, but it shares its transfer talk with a football story, and Sport
    # attracted four of the batch's six articles against Money's one. Scored
    # against a normalised sum of those four, Sport used to come out on top,
    # and as the article does not fit Sport it ended in "Other".
    club = article(
        "Club sells shares to fund a striker",
        "The club sold shares and took a bank loan to pay the transfer fee for the "
        "striker. Profits from the stadium sale covered the rest of the fee.",
    )
    transfer = article(
        "Record transfer fee for a striker",
        "The club paid a record transfer fee for the striker. The fee agreed with the "
        "selling club beats the record set last summer for a player.",
    )
    out = classify([BANKING[0], club, transfer, *FOOTBALL], THEMES, 0.05, "Other")
    assert [a.theme for a in out] == ["Money", "Money"] + ["Sport"] * 4
    scores = dict(out[1].scores)
    assert scores["Money"] > scores["Sport"]


def test_a_batch_of_one_is_classified_as_in_a_larger_batch():
    """Background term statistics: a small batch does not collapse the weights."""
    alone = [classify([a], THEMES, 0.05, "Other")[0].theme for a in FOOTBALL[:1] + BANKING[:1]]
    together = [a.theme for a in classify(FOOTBALL + BANKING + BAKING, THEMES, 0.05, "Other")]
    assert alone == ["Sport", "Money"]
    assert together[0] == "Sport" and together[3] == "Money"
    table, stem = background("en"), stemmer("en")
    assert table is not None
    assert table[stem("the")] < table[stem("football")] < table[stem("referendum")]


def test_an_article_alone_in_its_theme_is_scored_against_the_theme_itself():
    # No other article joined its theme, so there is nothing to re-centre on:
    # its score is its fit with the theme's own profile, whatever the rounding
    # of "the theme's articles without this one" (1 - 2 + 1) comes to.
    for lone in FOOTBALL + BANKING:
        out = classify([*BAKING, lone], THEMES, 0.05, "Other")
        assert [a.theme for a in out[:-1]] == ["Other"] * len(BAKING)
        theme = out[-1].theme
        assert theme in ("Sport", "Money")
        assert dict(out[-1].scores)[theme] == out[-1].theme_fit


def test_word_vectors_relate_words_a_theme_does_not_list():
    # alone in its batch (no re-centring) and without a single keyword
    sprint = article(
        "Sprinter takes gold",
        "The sprinter won the race and took gold at the athletics championships.",
    )
    out = classify([sprint], THEMES, 0.05, "Other")[0]
    assert out.theme == "Sport"
    assert {"sprinter", "athletics", "race", "gold"} & set(out.reasons)
    found = word_vectors("en")
    assert found is not None
    rows, vectors = found
    stem = stemmer("en")

    def sim(a: str, b: str) -> float:
        return float(vectors[rows[stem(a)]] @ vectors[rows[stem(b)]])

    assert sim("football", "soccer") > sim("football", "bank")
    assert sim("profit", "revenue") > sim("profit", "goalkeeper")


def test_threshold_sends_everything_to_other_when_nothing_is_close():
    out = classify(FOOTBALL + BANKING, THEMES, threshold=0.99, other="Misc")
    assert {a.theme for a in out} == {"Misc"}
    assert all(a.theme_score < 0.99 for a in out)


def test_an_unrelated_batch_goes_to_other():
    out = classify(BAKING, THEMES, threshold=0.05, other="Other")
    assert {a.theme for a in out} == {"Other"}


def test_ties_go_to_the_theme_listed_first():
    twins = (Theme("First", keywords=("football",)), Theme("Second", keywords=("football",)))
    out = classify(FOOTBALL[:1], twins, 0.0, "Other")
    assert out[0].theme == "First"
    swapped = classify(FOOTBALL[:1], twins[::-1], 0.0, "Other")
    assert swapped[0].theme == "Second"


def test_same_input_same_output():
    arts = FOOTBALL + BANKING + BAKING
    assert classify(arts, THEMES, 0.05, "Other") == classify(arts, THEMES, 0.05, "Other")


def test_a_build_skips_the_deciding_words_and_nothing_else():
    # a build shows no deciding words and does not look for them; the themes
    # and scores must be those ``digest themes`` explains
    arts = FOOTBALL + BANKING + BAKING
    explained = classify(arts, THEMES, 0.05, "Other")
    plain = classify(arts, THEMES, 0.05, "Other", explain=False)
    assert all(a.reasons for a in explained if a.theme != "Other")
    assert all(a.reasons == () for a in plain)
    assert [replace(a, reasons=()) for a in explained] == list(plain)


def test_examples_define_a_theme_without_keywords():
    themes = (Theme("Baking"), Theme("Money", keywords=("bank",)))
    examples = {"Baking": BAKING[:1]}
    out = classify(BAKING[1:] + BANKING[:1], themes, 0.05, "Other", examples)
    assert [a.theme for a in out] == ["Baking", "Baking", "Money"]


def test_front_matter_theme_overrides():
    a = article("Cup final", "The football match ended with a goal.", theme="Money")
    out = classify([a], THEMES, 0.05, "Other")[0]
    assert out.theme == "Money"
    assert out.reasons == ()
    assert dict(out.scores)["Sport"] > dict(out.scores)["Money"]


def test_an_override_to_an_unknown_theme_gets_its_own_section_before_other():
    arts = [
        article("Roses", "x", theme="Garden"),
        article("Cup", "The football match ended with a goal."),
        article("Lilies", "Water them weekly."),
    ]
    sections = group(classify(arts, THEMES, 0.05, "Other"), THEMES, "Other")
    assert [s.theme for s in sections] == ["Sport", "Garden", "Other"]


def test_group_orders_sections_by_config_and_items_newest_first():
    arts = [
        article("Old match", "x", theme="Sport", date="2024-01-01"),
        article("New match", "x", theme="Sport", date="2024-03-01"),
        article("Undated match", "x", theme="Sport"),
        article("Profit", "x", theme="Money"),
        article("Roses", "x", theme="Other"),
    ]
    sections = group(arts, THEMES, "Other")
    assert [s.theme for s in sections] == ["Sport", "Money", "Other"]
    assert [a.title for a in sections[0].items] == ["New match", "Old match", "Undated match"]


def test_same_day_items_are_ordered_by_score():
    arts = [
        article("Weak", "x", theme="Sport", date="2024-03-01", theme_score=0.1),
        article("Strong", "x", theme="Sport", date="2024-03-01", theme_score=0.4),
        article("Older", "x", theme="Sport", date="2024-02-01", theme_score=0.9),
    ]
    assert [a.title for a in group(arts, THEMES, "Other")[0].items] == ["Strong", "Weak", "Older"]


def test_empty_themes_are_omitted():
    sections = group([article("Profit", "x", theme="Money")], THEMES, "Other")
    assert [s.theme for s in sections] == ["Money"]


def test_report_lists_every_article_with_all_scores_in_section_order():
    arts = [BANKING[0], FOOTBALL[0], article("Roses", "x", theme="Garden", source="r.md")]
    classified = classify(arts, THEMES, 0.05, "Other")
    data = report(classified, THEMES, "Other", 0.05, overridden={"r.md"})
    assert [r["theme"] for r in data["articles"]] == ["Sport", "Money", "Garden"]
    assert [r["override"] for r in data["articles"]] == [False, False, True]
    assert set(data["articles"][0]["scores"]) == {"Sport", "Money"}
    table = report_table(data)
    lines = table.splitlines()
    assert lines[0].split()[:5] == ["ARTICLE", "THEME", "FIT", "Sport", "Money"]
    assert "*" in lines[1] and "football" in lines[1]
    assert "front matter theme" in lines[3]
    assert 'below 0.05 (classify.threshold)\nthe article goes to "Other"' in table
    assert data["articles"][0]["fit"] >= 0.05
    assert report_json(data).startswith("{")


def test_suggest_finds_obvious_clusters_and_prints_valid_toml(tmp_path):
    arts = [
        article(a.title, a.body, source=f"in/{i}.txt")
        for i, a in enumerate(BAKING + FOOTBALL + BANKING)
    ]
    found = suggest(arts, 3)
    groups = sorted(sorted(a.source for a in s.articles) for s in found)
    assert groups == [
        ["in/0.txt", "in/1.txt", "in/2.txt"],
        ["in/3.txt", "in/4.txt", "in/5.txt"],
        ["in/6.txt", "in/7.txt", "in/8.txt"],
    ]
    by_first = {sorted(a.source for a in s.articles)[0]: s for s in found}
    assert {"dough", "loaf", "yeast"} & set(by_first["in/0.txt"].keywords)
    assert by_first["in/0.txt"].name.split()[0].lower() in by_first["in/0.txt"].keywords
    text = suggestion_toml(found)
    config = parse_config(tomllib.loads(text), tmp_path, "suggested.toml")
    assert len(config.themes) == 3
    assert all(len(t.examples) == 2 and t.keywords for t in config.themes)
    assert suggestion_toml(suggest(arts, 3)) == text  # deterministic


def test_suggest_needs_enough_articles():
    with pytest.raises(DigestError, match="2 articles"):
        suggest(FOOTBALL[:2], 3)
