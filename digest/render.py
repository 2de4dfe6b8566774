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
import math
import re
import textwrap
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

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

    if user_dir and not Path(user_dir).is_dir():
        raise DigestError(
            f"{user_dir}: templates folder not found",
            hint="fix templates.dir / --templates, or leave it empty for the built-in templates",
        )
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
        env.globals["language_tag"] = language_tag
        env.globals["direction"] = direction
        envs.append(env)
    return envs[0], envs[1]


def warm(templates_dir: str | None = None) -> None:
    """Compile the templates ahead (a build does this while its workers
    summarize). A template that fails to compile is left alone: rendering
    it reports the problem at the usual place."""
    try:
        mjml_env, text_env = environments(templates_dir or None)
        mjml_env.get_template(HTML_TEMPLATE)
        text_env.get_template(TEXT_TEMPLATE)
    except Exception:
        pass


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


def references(digest: Digest, link: Any = None) -> tuple[Reference, ...]:
    """The numbered links of the text version, one per linked article."""
    refs: list[Reference] = []
    for article in digest.articles:
        url = link(article) if link else safe_url(article.url)
        if url and all(r.url != url for r in refs):
            refs.append(Reference(len(refs) + 1, url, article.title))
    return tuple(refs)


def to_json(digest: Digest) -> str:
    data = {
        "title": digest.title,
        "issue": digest.issue,
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
                        "also_in": [{"label": x.label, "url": x.url} for x in a.also_in],
                    }
                    for a in section.items
                ],
            }
            for section in digest.sections
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# --- links -----------------------------------------------------------------

_UNSAFE = re.compile(r"[\x00-\x20\x7f<>\"'`\\]")


def safe_url(url: str | None) -> str | None:
    """An article URL fit to link: absolute http(s) with a host; anything else
    (``javascript:``, relative paths, spaces) is not linked at all."""
    if not url:
        return None
    url = url.strip()
    if _UNSAFE.search(url):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def add_utm(url: str, params: tuple[tuple[str, str], ...]) -> str:
    """Append the non-empty UTM parameters, keeping the URL's own query (byte
    for byte) and fragment; a parameter the URL already has is left alone."""
    base, hash_, fragment = url.partition("#")
    query = urlsplit(base).query
    present = {k for k, _ in parse_qsl(query, keep_blank_values=True)}
    extra = [(k, v) for k, v in params if v and k not in present]
    if not extra:
        return url
    if "?" not in base:
        sep = "?"
    elif base.endswith(("?", "&")):
        sep = ""
    else:
        sep = "&"
    return base + sep + urlencode(extra, quote_via=quote) + hash_ + fragment


def _fragment_quote(text: str) -> str:
    # "-", "," and "&" mean something inside a text directive
    return quote(text, safe="").replace("-", "%2D")


def text_fragment(url: str, sentence: str) -> str:
    """``url#:~:text=start,end``: browsers scroll to and highlight the
    sentence. Long sentences are matched by their first and last words, so
    small differences in the middle (quotes, spaces) still match."""
    words = sentence.split()
    if not words:
        return url
    if len(words) <= 8:
        directive = "text=" + _fragment_quote(" ".join(words))
    else:
        directive = (
            "text="
            + _fragment_quote(" ".join(words[:4]))
            + ","
            + _fragment_quote(" ".join(words[-4:]))
        )
    base, _, fragment = url.partition("#")
    if ":~:" in fragment:
        return url
    return f"{base}#{fragment}:~:{directive}"


# --- colours, language, preheader -------------------------------------------------

RTL_LANGUAGES = frozenset(
    {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ps", "sd", "ug", "ur", "yi"}
)
TEXT = "#1f2328"
MUTED = "#57606a"
PAGE = "#f3f4f6"
CARD = "#ffffff"
DARK_PAGE = "#0d1117"
DARK_CARD = "#161b22"
DARK_TEXT = "#e6edf3"
DARK_MUTED = "#9da7b3"


_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def language_tag(language: str) -> str:
    """A BCP 47-looking tag for ``<html lang>``; anything else becomes "en"."""
    return language if _LANG.fullmatch(language or "") else "en"


def direction(language: str) -> str:
    return "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def palette(accent: str) -> dict[str, str]:
    """The colours the template uses, derived from the accent so that every
    text keeps a 4.5:1 contrast: the accent is darkened for text on white and
    lightened for links on the dark card; the masthead text is white or
    near-black, whichever reads better on the accent."""
    from .check import adjust_for_contrast, contrast, parse_color

    if parse_color(accent) is None:
        raise DigestError(
            f"newsletter.accent_color: not a colour: {accent!r}",
            hint='write it as "#rrggbb", e.g. "#0b5cab"',
        )
    on_accent = "#ffffff" if contrast("#ffffff", accent) >= contrast(TEXT, accent) else "#111111"
    return {
        "accent": accent,
        "on_accent": on_accent,
        "accent_text": adjust_for_contrast(accent, CARD, 4.6),
        "accent_dark": adjust_for_contrast(accent, DARK_CARD, 4.6),
        "text": TEXT,
        "muted": MUTED,
        "page": PAGE,
        "card": CARD,
        "dark_page": DARK_PAGE,
        "dark_card": DARK_CARD,
        "dark_text": DARK_TEXT,
        "dark_muted": DARK_MUTED,
    }


PREHEADER_MIN = 90
PREHEADER_MAX = 140
# Invisible characters after the preheader keep clients from pulling body text
# (the masthead, "view in browser") into the inbox preview.
PREHEADER_FILLER = "\u034f\u200c\u00a0" * 40


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:–-") + "…"


def preheader(digest: Digest, configured: str = "") -> str:
    """About 90-140 characters of plain text from the lead story: its first
    summary sentence, then the next ones, then the other titles."""
    if configured.strip():
        return _clip(" ".join(configured.split()), PREHEADER_MAX)
    articles = digest.articles
    if not articles:
        return _clip(" ".join(digest.intro.split()), PREHEADER_MAX)
    lead = articles[0]
    parts = list(lead.summary) or [lead.title]
    text = ""
    for part in parts:
        text = f"{text} {part}".strip()
        if len(text) >= PREHEADER_MIN:
            break
    if len(text) < PREHEADER_MIN:
        others = [a.title for a in articles[1:4]]
        if others:
            text = f"{text} Also: {'; '.join(others)}"
    if len(text) < PREHEADER_MIN:
        text = f"{text} {digest.intro}".strip()
    return _clip(" ".join(text.split()), PREHEADER_MAX)


def unsubscribe_link(url: str, mailto: str) -> str:
    """The footer's unsubscribe link: the URL or merge tag, else the mailto."""
    if url.strip():
        return url.strip()
    if mailto.strip():
        m = mailto.strip()
        return m if m.lower().startswith("mailto:") else f"mailto:{m}"
    return ""


# --- fitting into the size budget ------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How much of the digest the email shows."""

    sentences: int  # summary sentences per article (0 = as summarized)
    full: int  # articles shown with their summary, in round-robin order
    listed: int  # further articles listed by title; the rest only counted


def round_robin(digest: Digest) -> list[Article]:
    """Articles by rank within their section, then section order: the first n
    of this list give every theme its top stories before anyone's tenth."""
    order: list[tuple[int, int, Article]] = []
    for s, section in enumerate(digest.sections):
        for i, article in enumerate(section.items):
            order.append((i, s, article))
    order.sort(key=lambda t: (t[0], t[1]))
    return [a for _, _, a in order]


def apply_plan(
    digest: Digest, plan: Plan, cut: dict[tuple[int, str], Article] | None = None
) -> tuple[Digest, frozenset[str], frozenset[str], int]:
    """(digest with shortened summaries, sources shown in brief, sources left
    out, how many were left out). ``cut`` remembers shortened articles
    across the plans tried for one digest."""
    ranked = round_robin(digest)
    brief = frozenset(a.source for a in ranked[plan.full : plan.full + plan.listed])
    hidden = frozenset(a.source for a in ranked[plan.full + plan.listed :])
    cut = {} if cut is None else cut
    n = plan.sentences

    def shortened(a: Article) -> Article:
        if not n or len(a.summary) <= n:
            return a  # nothing to cut: the article as it is
        key = (n, a.source)
        if key not in cut:
            cut[key] = replace(a, summary=a.summary[:n])
        return cut[key]

    sections = []
    for section in digest.sections:
        items = tuple(shortened(a) for a in section.items if a.source not in hidden)
        if items:
            sections.append(replace(section, items=items))
    return replace(digest, sections=tuple(sections)), brief, hidden, len(hidden)


def _largest(lo: int, hi: int, fits: Any, guess: int | None = None) -> int | None:
    """The largest n in [lo, hi] with fits(n), assuming fits is monotone.

    With a ``guess`` (where the answer probably is), the search gallops out
    from it before bisecting: a few probes when the guess is close, never
    many more than bisecting alone. The answer is the same either way."""
    if not fits(lo):
        return None
    if guess is not None and lo < guess <= hi:
        if fits(guess):
            lo, step = guess, 1
            while lo < hi:
                probe = min(hi, lo + step)
                if not fits(probe):
                    hi = probe - 1
                    break
                lo, step = probe, step * 2
        else:
            hi, step = guess - 1, 1
            while lo < hi:
                probe = max(lo, hi - step)
                if fits(probe):
                    lo = probe
                    break
                hi, step = probe - 1, step * 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def render(
    digest: Digest,
    newsletter: Any,
    templates_dir: str | None = None,
    email: Any = None,
) -> Rendered:
    """Render every output file in memory; nothing is written here."""
    return render_with_source(digest, newsletter, templates_dir, email)[0]


def render_with_source(
    digest: Digest,
    newsletter: Any,
    templates_dir: str | None = None,
    email: Any = None,
) -> tuple[Rendered, str]:
    """The rendered files and the MJML the HTML was compiled from.

    When the HTML would be over ``email.max_html_bytes`` the digest is fitted:
    first fewer summary sentences, then the last-ranked articles listed by
    title only, then (for thousands of articles) only counted. What was cut
    is returned in ``Rendered.warnings``."""
    from .config import EmailConfig

    email = email or EmailConfig()
    total = len(digest.articles)
    most = max((len(a.summary) for a in digest.articles), default=0)
    budget = email.max_html_bytes

    # Fitting renders only the HTML (the text email does not count against the
    # budget); the text is rendered once, for the plan chosen.
    cache: dict[Plan, tuple[str, str, str, Digest]] = {}

    cut: dict[tuple[int, str], Article] = {}  # shortened articles, shared by the plans

    def attempt(plan: Plan, text: bool = False) -> tuple[str, str, str, Digest]:
        if plan not in cache:
            cache[plan] = _render_plan(
                digest, newsletter, templates_dir, email, plan, True, text, cut
            )
        elif text and not cache[plan][2]:  # the HTML is known: only the text is wanted
            source, html, _, shown = cache[plan]
            text_only = _render_plan(
                digest, newsletter, templates_dir, email, plan, False, True, cut
            )
            cache[plan] = (source, html, text_only[2], shown)
        return cache[plan]

    def size(plan: Plan) -> int:
        return len(attempt(plan)[1].encode("utf-8"))

    plan = Plan(sentences=0, full=total, listed=0)
    warnings: list[str] = []
    first_size = size(plan)
    if first_size > budget:
        one = Plan(sentences=1, full=total, listed=0)
        if most > 1 and size(one) > budget:
            plan = one  # more sentences each would be larger still: no need to try them
        else:  # the most sentences that fit
            for n in range(most - 1, 0, -1):
                plan = Plan(sentences=n, full=total, listed=0)
                if size(plan) <= budget:
                    break
        if size(plan) > budget:
            # each article shown in full instead of by title adds about
            # the same: start near where the sizes cross the budget
            brief, whole = size(Plan(1, 0, total)), size(Plan(1, total, 0))
            guess = (budget - brief) * total // max(whole - brief, 1) if whole > brief else None
            if guess is not None and 0 < guess < total:
                # one secant step from the size at the guess: the guess lands
                # within an article or two of the answer, so few probes remain
                at = size(Plan(1, guess, total - guess))
                guess += math.floor((budget - at) * total / (whole - brief))
                guess = min(max(guess, 1), total)
            full = _largest(0, total, lambda k: size(Plan(1, k, total - k)) <= budget, guess)
            if full is not None:
                plan = Plan(1, full, total - full)
            else:
                listed = _largest(0, total, lambda k: size(Plan(1, 0, k)) <= budget)
                plan = Plan(1, 0, listed or 0)
        warnings.append(_fit_message(first_size, budget, plan, total, most))
    source, html, text, _shown = attempt(plan, text=True)
    eml = message.to_bytes(
        message.compose(
            text=text,
            html=html,
            subject=digest.title,
            sender=newsletter.sender,
            to=email.to or message.PLACEHOLDER_TO,
            date=message_date(digest),
            domain=email.domain,
            list_id=email.list_id or newsletter.name,
            unsubscribe=(newsletter.unsubscribe_url, email.unsubscribe_mailto),
        )
    )
    rendered = Rendered(
        files=(
            ("digest.html", html.encode("utf-8")),
            ("digest.txt", text.encode("utf-8")),
            ("digest.json", to_json(digest).encode("utf-8")),
            ("digest.eml", eml),
        ),
        warnings=tuple(warnings),
    )
    return rendered, source


def _fit_message(before: int, budget: int, plan: Plan, total: int, most: int) -> str:
    done = []
    if plan.sentences and plan.sentences < most:
        done.append(f"summaries cut to {plan.sentences} sentence{'s' * (plan.sentences != 1)}")
    if plan.full < total:
        done.append(f"{plan.listed} of {total} articles listed by title only")
    left_out = total - plan.full - plan.listed
    if left_out:
        done.append(f"{left_out} articles only counted")
    return (
        f"digest.html would be {before:,} bytes, over the {budget:,}-byte budget "
        f"(email.max_html_bytes; Gmail clips messages over 102 KB): " + "; ".join(done)
    )


def _render_plan(
    digest: Digest,
    newsletter: Any,
    templates_dir: str | None,
    email: Any,
    plan: Plan,
    with_html: bool = True,
    with_text: bool = True,
    cut: dict[tuple[int, str], Article] | None = None,
) -> tuple[str, str, str, Digest]:
    """(MJML, HTML, text, the digest as shown) for one plan; the MJML and HTML
    are "" unless ``with_html``, the text is "" unless ``with_text``."""
    mjml_env, text_env = environments(templates_dir or None)
    shown, brief, _hidden, left_out = apply_plan(digest, plan, cut)
    utm = (
        ("utm_source", email.utm_source),
        ("utm_medium", email.utm_medium),
        ("utm_campaign", email.utm_campaign),
    )

    def link(article: Article) -> str | None:
        url = safe_url(article.url)
        return add_utm(url, utm) if url else None

    def deep_link(article: Article) -> str | None:
        url = link(article)
        if url and email.text_fragments and article.summary:
            return text_fragment(url, article.summary[0])
        return url

    refs = references(shown, link)
    context = {
        "digest": shown,
        "newsletter": newsletter,
        "email": email,
        "references": refs,
        "ref_by_url": {r.url: r.number for r in refs},
        "link": link,
        "deep_link": deep_link,
        "brief": brief,
        "left_out": left_out,
        "lang": language_tag(shown.language),
        "dir": direction(language_tag(shown.language)),
        "colors": palette(newsletter.accent_color),
        "preheader": preheader(shown, email.preheader),
        "preheader_filler": PREHEADER_FILLER,
        "unsubscribe": unsubscribe_link(newsletter.unsubscribe_url, email.unsubscribe_mailto),
    }
    source = html = ""
    if with_html:
        source = _render(mjml_env, HTML_TEMPLATE, context)
        html = compile_mjml(source)
    if not with_text:
        return source, html, "", shown
    text = _render(text_env, TEXT_TEMPLATE, context)
    text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    return source, html, text, shown


def message_date(digest: Digest) -> dt.datetime:
    """A stable Date for the .eml: the newest article's day, else the epoch.
    ``digest send`` stamps the real time when it sends."""
    dates = [a.date for a in digest.articles if a.date]
    day = max(dates) if dates else dt.date(1970, 1, 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
