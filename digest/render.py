"""Stage 5, render: one :class:`Digest` into the email, the text and the JSON.

Two Jinja2 environments share one loader: MJML/HTML templates are
autoescaped, the plain-text one is not. Article text only ever reaches a
template as a value, never as template source, so it stays text. The loader
looks in the user's folder first, then in the built-in ``templates/``;
``default:NAME`` always means the built-in file, so an override can extend
the template it replaces.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import message
from .errors import DigestError
from .model import Article, Digest, Rendered

HTML_TEMPLATE = "digest.mjml.j2"
TEXT_TEMPLATE = "digest.txt.j2"


def builtin_templates() -> Path:
    """The built-in templates: inside the package when installed from a wheel,
    else ``templates/`` at the top of the checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / HTML_TEMPLATE).is_file():
            return candidate
    raise DigestError("built-in templates not found", hint="reinstall digest (pip install -e .)")


@dataclass(frozen=True)
class Reference:
    """A numbered link of the plain-text version."""

    number: int
    url: str
    label: str


def wrap(text: str, width: int = 78, indent: str = "", first: str | None = None) -> str:
    """Wrap at ``width`` columns; long words (URLs) are never broken."""
    return textwrap.fill(
        " ".join(str(text).split()),
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def meta_line(article: Article) -> str:
    """ "16 November 2024 · Jane Doe · Example News": what is known, in that order."""
    parts = []
    if article.date:
        parts.append(f"{article.date.day} {article.date:%B %Y}")
    if article.author:
        parts.append(article.author)
    if article.publisher:
        parts.append(article.publisher)
    return " · ".join(parts)


@lru_cache(maxsize=8)
def environments(user_dir: str | None) -> tuple[Any, Any]:
    """(MJML environment, text environment) over the same loader."""
    import jinja2

    builtin = str(builtin_templates())
    search = [user_dir, builtin] if user_dir else [builtin]
    loader = jinja2.ChoiceLoader(
        [
            jinja2.PrefixLoader({"default": jinja2.FileSystemLoader(builtin)}, delimiter=":"),
            jinja2.FileSystemLoader(search),
        ]
    )
    envs = []
    for autoescape in (True, False):
        env = jinja2.Environment(
            loader=loader,
            autoescape=autoescape,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters["wrap"] = wrap
        env.globals["meta_line"] = meta_line
        envs.append(env)
    return envs[0], envs[1]


def _render(env: Any, name: str, context: dict[str, Any]) -> str:
    import jinja2

    try:
        return str(env.get_template(name).render(**context))
    except jinja2.TemplateNotFound as exc:
        raise DigestError(
            f"template '{exc.name}' not found",
            hint="check templates.dir / --templates, or remove the override",
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise DigestError(
            f"{exc.filename or exc.name}:{exc.lineno}: template syntax error: {exc.message}",
            hint="fix the template",
        ) from exc
    except jinja2.UndefinedError as exc:
        import traceback

        where = name
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith(".j2") or "template" in frame.filename:
                where = f"{frame.filename}:{frame.lineno}"
                break
        raise DigestError(
            f"{where}: {exc.message}",
            hint="use only the variables documented in README.md (templates section)",
        ) from exc


def compile_mjml(source: str) -> str:
    """MJML to HTML with mjml-python: no web fonts, no comments."""
    import mjml

    try:
        return str(mjml.mjml2html(source, disable_comments=True, fonts={}))
    except Exception as exc:  # mjml raises its own error types from Rust
        raise DigestError(
            f"MJML could not be compiled: {exc}", hint="check the MJML template override"
        ) from exc


def references(digest: Digest) -> tuple[Reference, ...]:
    refs: list[Reference] = []
    for article in digest.articles:
        if article.url:
            refs.append(Reference(len(refs) + 1, article.url, article.title))
    return tuple(refs)


def to_json(digest: Digest) -> str:
    data = {
        "title": digest.title,
        "period": digest.period,
        "language": digest.language,
        "sections": [
            {
                "theme": section.theme,
                "items": [
                    {
                        "title": a.title,
                        "source": a.source,
                        "url": a.url,
                        "date": a.date.isoformat() if a.date else None,
                        "author": a.author,
                        "publisher": a.publisher,
                        "language": a.language,
                        "score": a.theme_score,
                        "summary": list(a.summary),
                    }
                    for a in section.items
                ],
            }
            for section in digest.sections
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def render(digest: Digest, newsletter: Any, templates_dir: str | None = None) -> Rendered:
    """Render every output file in memory; nothing is written here."""
    mjml_env, text_env = environments(templates_dir or None)
    refs = references(digest)
    ref_by_url = {r.url: r.number for r in refs}
    context = {
        "digest": digest,
        "newsletter": newsletter,
        "references": refs,
        "ref_by_url": ref_by_url,
    }
    mjml_source = _render(mjml_env, HTML_TEMPLATE, context)
    html = compile_mjml(mjml_source)
    text = _render(text_env, TEXT_TEMPLATE, context)
    text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    eml = message.to_bytes(
        message.compose(
            text=text,
            html=html,
            subject=digest.title,
            sender=newsletter.sender,
            date=message_date(digest),
        )
    )
    return Rendered(
        files=(
            ("digest.html", html.encode("utf-8")),
            ("digest.txt", text.encode("utf-8")),
            ("digest.json", to_json(digest).encode("utf-8")),
            ("digest.eml", eml),
        )
    )


def message_date(digest: Digest) -> dt.datetime:
    """A stable Date for the .eml: the newest article's day, else the epoch.
    ``digest send`` stamps the real time when it sends."""
    dates = [a.date for a in digest.articles if a.date]
    day = max(dates) if dates else dt.date(1970, 1, 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
