from __future__ import annotations

from digest.classify import classify, group
from digest.model import Theme
from tests.helpers import article

THEMES = (
    Theme("Sport", "Matches, players and tournaments.", ("football", "match", "goal")),
    Theme("Money", "Markets, companies and profits.", ("profit", "shares", "bank")),
)


def test_best_theme_wins_and_weak_matches_go_to_other():
    arts = [
        article("Cup final", "The football match ended with a late goal by the captain."),
        article("Bank results", "The bank reported a record profit and its shares rose."),
        article("Gardening", "Roses need water and sunlight in early spring."),
    ]
    out = classify(arts, THEMES, threshold=0.05, other="Elsewhere")
    assert [a.theme for a in out] == ["Sport", "Money", "Elsewhere"]
    assert all(len(a.scores) == 2 for a in out)


def test_front_matter_theme_overrides():
    a = article("Cup final", "The football match ended with a goal.", theme="Money")
    assert classify([a], THEMES, 0.05, "Other")[0].theme == "Money"


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


def test_empty_themes_are_omitted():
    sections = group([article("Profit", "x", theme="Money")], THEMES, "Other")
    assert [s.theme for s in sections] == ["Money"]
