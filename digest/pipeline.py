"""``build(config)``: the stages in order, top to bottom.

load -> clean -> summarize -> classify -> group -> render. Every stage takes
values and returns new ones; only ``load`` reads and ``deliver`` writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from . import deliver
from .classify import classify, group
from .clean import clean
from .config import Config
from .errors import DigestError
from .load import load
from .model import Article, Digest, Rendered, Section
from .render import render
from .summarize import get_summarizer, summarize


@dataclass(frozen=True)
class BuildResult:
    digest: Digest
    rendered: Rendered
    warnings: tuple[str, ...]


def period_of(articles: Sequence[Article]) -> str:
    """ "November 2024", "October – November 2024", or "" when nothing is dated."""
    dates = sorted(a.date for a in articles if a.date)
    if not dates:
        return ""
    first, last = dates[0], dates[-1]
    if (first.year, first.month) == (last.year, last.month):
        return f"{last:%B %Y}"
    if first.year == last.year:
        return f"{first:%B} – {last:%B %Y}"
    return f"{first:%B %Y} – {last:%B %Y}"


def make_digest(sections: tuple[Section, ...], config: Config) -> Digest:
    articles = [a for s in sections for a in s.items]
    nl = config.newsletter
    period = nl.period or period_of(articles)
    languages = Counter(a.language for a in articles)
    language = nl.language or (languages.most_common(1)[0][0] if languages else "en")
    title = f"{nl.name} – {period}" if period else nl.name
    return Digest(title=title, period=period, intro=nl.intro, sections=sections, language=language)


def collect(
    config: Config, sources: Sequence[str] | None = None
) -> tuple[list[Article], list[str]]:
    """Load and clean the articles; problems with single files become warnings."""
    docs, load_warnings = load(sources or config.build.sources, config.build.max_article_bytes)
    warnings = list(load_warnings)
    articles = [clean(d) for d in docs]
    if not articles:
        where = ", ".join(sources or config.build.sources)
        raise DigestError(
            f"{where}: no articles found",
            hint="add .txt, .md or .html files (see README.md, 'Inputs')",
        )
    return articles, warnings


def build(config: Config, sources: Sequence[str] | None = None) -> BuildResult:
    """Build the digest in memory: nothing is written."""
    get_summarizer(config.summary.summarizer)  # fail fast on a bad name
    articles, warnings = collect(config, sources)
    articles = [
        summarize(
            a, config.summary.summarizer, config.summary.sentences, config.summary.max_sentences
        )
        for a in articles
    ]
    articles = list(
        classify(articles, config.themes, config.classify.threshold, config.classify.other)
    )
    sections = group(articles, config.themes, config.classify.other)
    digest = make_digest(sections, config)
    rendered = render(digest, config.newsletter, config.templates.dir or None)
    if config.build.strict and warnings:
        raise DigestError(
            f"{len(warnings)} warning(s) with --strict: {warnings[0]}",
            hint="fix the inputs or drop --strict",
        )
    return BuildResult(digest=digest, rendered=rendered, warnings=tuple(warnings))


def build_to(config: Config, out: str, sources: Sequence[str] | None = None) -> BuildResult:
    """Build and write the files into ``out`` atomically."""
    result = build(config, sources)
    deliver.write_files(out, result.rendered)
    return result
