"""One TOML file, one dataclass per section.

Where a setting comes from, lowest to highest precedence:

1. the field defaults below (the only place defaults live);
2. the config file: ``--config FILE``, else ``digest.toml`` in the current
   folder when it exists;
3. command-line flags the user actually passed (flags default to ``None``).

Relative paths in the file are relative to the file's folder; relative paths
from flags are relative to the current folder. Secrets never live here: the
SMTP password comes from the environment (``DIGEST_SMTP_PASSWORD``).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DigestError
from .model import Theme

DEFAULT_CONFIG_NAME = "digest.toml"


@dataclass(frozen=True)
class NewsletterConfig:
    """What the reader sees: name, intro, branding."""

    name: str = "International Health Digest"
    intro: str = (
        "The month's stories from our international office, summarized and grouped by theme."
    )
    period: str = ""  # "" = derived from the articles' dates
    language: str = ""  # "" = the articles' most common language
    sender: str = "Digest <digest@example.org>"
    accent_color: str = "#0b5cab"
    logo_url: str = ""
    address: str = ""
    unsubscribe_url: str = ""
    archive_url: str = ""


@dataclass(frozen=True)
class EmailConfig:
    """How the email is put together: headers, links, size budget."""

    to: str = ""  # "" = a placeholder recipient; `digest send` sets the real one
    domain: str = ""  # "" = the sender's domain (Message-ID, List-Id)
    list_id: str = ""  # "" = derived from newsletter.name and the domain
    unsubscribe_mailto: str = ""  # optional mailto: for List-Unsubscribe
    preheader: str = ""  # "" = written from the digest's lead story
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    text_fragments: bool = False  # link to the summarized sentence (#:~:text=)
    max_html_bytes: int = 100_000  # Gmail clips HTML over 102 KB


@dataclass(frozen=True)
class BuildConfig:
    """Inputs, outputs and limits."""

    sources: tuple[str, ...] = ("seeds",)
    out: str = "out"
    strict: bool = False
    max_article_bytes: int = 2_000_000
    jobs: int = 0  # worker processes for cleaning and summarizing; 0 = all cores
    fetch_full: bool = False  # download each feed entry's page for its full text
    timeout: float = 20.0  # seconds per web request, in all
    max_feed_bytes: int = 10_000_000  # larger feeds and downloads are refused
    user_agent: str = ""  # "" = "digest/<version> (newsletter builder)"


@dataclass(frozen=True)
class SummaryConfig:
    summarizer: str = "auto"
    sentences: int = 3
    max_sentences: int = 400  # cap on sentences fed to quadratic algorithms


@dataclass(frozen=True)
class TemplatesConfig:
    dir: str = ""  # "" = built-in templates only


@dataclass(frozen=True)
class ClassifyConfig:
    other: str = "Other"
    threshold: float = 0.05


@dataclass(frozen=True)
class SmtpConfig:
    """How ``digest send`` reaches the mail server. The password is never here:
    it comes from the environment variable ``DIGEST_SMTP_PASSWORD``."""

    host: str = "localhost"
    port: int = 0  # 0 = 587 for starttls, 465 for ssl, 25 for none
    security: str = "starttls"  # starttls | ssl | none
    user: str = ""  # "" = no AUTH
    ca_file: str = ""  # "" = the system's trusted certificates
    rate: str = ""  # "" = as fast as the server takes them; "10/s", "600/min", "3600/h"
    timeout: float = 30.0
    retries: int = 5
    backoff: float = 1.0
    envelope_from: str = ""  # "" = the From address of the digest


@dataclass(frozen=True)
class ArchiveConfig:
    """The public archive of past issues (``digest build --archive``)."""

    enabled: bool = False  # also write <out>/YYYY-MM/, index.html and feed.xml
    base_url: str = ""  # where <out>/ is published; "" = links relative to the archive


DEFAULT_THEMES: tuple[Theme, ...] = (
    Theme(
        name="Diplomacy",
        description=(
            "Healthcare diplomacy: relations between nations, governments and "
            "international policy, built through medicine and health."
        ),
        keywords=("diplomacy", "relations", "geopolitical", "ambassador", "policy"),
    ),
    Theme(
        name="Asia recovery",
        description=(
            "Recovery and renewal in China and Southeast Asia after the "
            "pandemic: economies, hospitals and travel coming back."
        ),
        keywords=("recovery", "renewal", "asia", "pandemic", "economy"),
    ),
    Theme(
        name="Collaborations",
        description=(
            "Cross-border collaborations and partnerships between hospitals, "
            "universities and health systems."
        ),
        keywords=("collaboration", "partnership", "partners", "cooperation", "agreement"),
    ),
)


@dataclass(frozen=True)
class Config:
    newsletter: NewsletterConfig = field(default_factory=NewsletterConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    build: BuildConfig = field(default_factory=BuildConfig)
    summary: SummaryConfig = field(default_factory=SummaryConfig)
    templates: TemplatesConfig = field(default_factory=TemplatesConfig)
    classify: ClassifyConfig = field(default_factory=ClassifyConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    themes: tuple[Theme, ...] = DEFAULT_THEMES
    path: str | None = None  # the file it was read from, if any

    def with_overrides(self, overrides: dict[str, Any]) -> Config:
        """Apply ``{"section.key": value}`` overrides; ``None`` values are ignored."""
        cfg = self
        for dotted, value in overrides.items():
            if value is None:
                continue
            section_name, key = dotted.split(".", 1)
            section = getattr(cfg, section_name)
            section = dataclasses.replace(section, **{key: value})
            cfg = dataclasses.replace(cfg, **{section_name: section})
        return cfg


SECTIONS: dict[str, type[Any]] = {
    "newsletter": NewsletterConfig,
    "email": EmailConfig,
    "build": BuildConfig,
    "summary": SummaryConfig,
    "templates": TemplatesConfig,
    "classify": ClassifyConfig,
    "smtp": SmtpConfig,
    "archive": ArchiveConfig,
}
THEME_KEYS = ("name", "description", "keywords", "examples")
PATH_KEYS = {("build", "sources"), ("build", "out"), ("templates", "dir"), ("smtp", "ca_file")}


def _type_name(tp: Any) -> str:
    if tp is str:
        return "a string"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is bool:
        return "true or false"
    return "a list of strings"


def _coerce(value: Any, tp: Any) -> Any:
    """Return ``value`` as type ``tp`` or raise ``TypeError``."""
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif (
        typing.get_origin(tp) is tuple
        and isinstance(value, list)
        and all(isinstance(v, str) for v in value)
    ):
        return tuple(value)
    raise TypeError


def _resolve(base: Path, value: str) -> str:
    if not value:
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)


def _check_web(sections: dict[str, Any]) -> list[str]:
    """Values a type check cannot catch: the network limits and the archive URL."""
    problems = []
    b = sections.get("build")
    if b is not None and b.timeout <= 0:
        problems.append("'build.timeout' must be more than 0 seconds")
    if b is not None and b.max_feed_bytes <= 0:
        problems.append("'build.max_feed_bytes' must be more than 0")
    a = sections.get("archive")
    if a is not None and a.base_url and not a.base_url.startswith(("https://", "http://")):
        problems.append("'archive.base_url' must start with https:// or http://")
    return problems


_COLOR = re.compile(r"^(#[0-9A-Fa-f]{3,4}|#[0-9A-Fa-f]{6}|#[0-9A-Fa-f]{8}|[A-Za-z]{3,30})$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def _check_range(lo: float, hi: float | None = None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value < lo or (hi is not None and value > hi):
            return f"must be between {lo} and {hi}" if hi is not None else f"must be at least {lo}"
        return None

    return check


def _check_color(value: Any) -> str | None:
    if _COLOR.match(value):
        return None
    return 'must be a colour like "#0b5cab"'


def _check_link(value: Any) -> str | None:
    """http(s) or mailto URLs, or a merge tag of the mailing service (no scheme)."""
    if any(c.isspace() or ord(c) < 32 for c in value.strip()):
        return "must not contain spaces or line breaks"
    m = _SCHEME.match(value.strip())
    if m and m.group(1).lower() not in ("http", "https", "mailto"):
        return "must be an http(s) or mailto URL"
    return None


# (section, key) -> a check returning what is wrong, or None.
CHECKS: dict[tuple[str, str], Callable[[Any], str | None]] = {
    ("build", "max_article_bytes"): _check_range(1),
    ("summary", "sentences"): _check_range(1, 50),
    ("summary", "max_sentences"): _check_range(1),
    ("classify", "threshold"): _check_range(0.0, 1.0),
    ("newsletter", "accent_color"): _check_color,
    ("newsletter", "logo_url"): _check_link,
    ("newsletter", "unsubscribe_url"): _check_link,
    ("newsletter", "archive_url"): _check_link,
    ("smtp", "port"): _check_range(0, 65535),
    ("smtp", "security"): lambda v: (
        None if v in ("starttls", "ssl", "none") else "must be starttls, ssl or none"
    ),
    ("smtp", "timeout"): _check_range(0.1, 3600.0),
    ("smtp", "retries"): _check_range(0, 100),
    ("smtp", "backoff"): _check_range(0.0, 3600.0),
}


def parse_config(data: dict[str, Any], base: Path, where: str) -> Config:
    """Validate a parsed TOML table; collect every problem before raising."""
    problems: list[str] = []
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key == "themes":
            continue
        cls = SECTIONS.get(key)
        if cls is None:
            problems.append(f"unknown section or key '{key}'")
            continue
        if not isinstance(value, dict):
            problems.append(f"'{key}' must be a table ([{key}])")
            continue
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for k, v in value.items():
            if k not in hints:
                known = ", ".join(hints)
                problems.append(f"unknown key '{key}.{k}' (known keys: {known})")
                continue
            try:
                v = _coerce(v, hints[k])
            except TypeError:
                problems.append(
                    f"'{key}.{k}' must be {_type_name(hints[k])}, not {type(v).__name__}"
                )
                continue
            check = CHECKS.get((key, k))
            wrong = check(v) if check else None
            if wrong:
                problems.append(f"'{key}.{k}' {wrong}, not {v!r}")
                continue
            if (key, k) in PATH_KEYS:
                v = (
                    tuple(_resolve(base, s) for s in v)
                    if isinstance(v, tuple)
                    else _resolve(base, v)
                )
            kwargs[k] = v
        sections[key] = cls(**kwargs)

    problems.extend(_check_web(sections))
    themes: tuple[Theme, ...] = DEFAULT_THEMES
    if "themes" in data:
        raw = data["themes"]
        if not isinstance(raw, list):
            problems.append("'themes' must be an array of tables ([[themes]])")
        else:
            parsed: list[Theme] = []
            for i, t in enumerate(raw, 1):
                if not isinstance(t, dict):
                    problems.append(f"themes #{i} must be a table")
                    continue
                unknown = sorted(set(t) - set(THEME_KEYS))
                for k in unknown:
                    problems.append(
                        f"unknown key 'themes.{k}' in theme #{i} "
                        f"(known keys: {', '.join(THEME_KEYS)})"
                    )
                name = t.get("name")
                if not isinstance(name, str) or not name.strip():
                    problems.append(f'theme #{i} has no name (add name = "...")')
                    continue
                desc = t.get("description", "")
                kws = t.get("keywords", [])
                exs = t.get("examples", [])
                if not isinstance(desc, str):
                    problems.append(f"'themes.description' of theme '{name}' must be a string")
                    desc = ""
                for label, lst in (("keywords", kws), ("examples", exs)):
                    if not (isinstance(lst, list) and all(isinstance(x, str) for x in lst)):
                        problems.append(
                            f"'themes.{label}' of theme '{name}' must be a list of strings"
                        )
                parsed.append(
                    Theme(
                        name=name.strip(),
                        description=desc,
                        keywords=tuple(kws) if isinstance(kws, list) else (),
                        examples=tuple(_resolve(base, e) for e in exs if isinstance(e, str))
                        if isinstance(exs, list)
                        else (),
                    )
                )
            names = [t.name for t in parsed]
            for n in sorted({n for n in names if names.count(n) > 1}):
                problems.append(f"theme '{n}' is defined twice")
            themes = tuple(parsed)

    if problems:
        first, *rest = problems
        more = "".join(f"; {p}" for p in rest)
        raise DigestError(
            f"{where}: {first}{more}",
            hint="see the configuration reference in README.md",
        )
    return Config(themes=themes, path=where, **sections)


def load_config(path: str | None) -> Config:
    """Read the config: ``path`` if given, else ./digest.toml if present, else defaults."""
    if path is None:
        candidate = Path(DEFAULT_CONFIG_NAME)
        if not candidate.is_file():
            return Config()
        file = candidate
    else:
        file = Path(path)
        if not file.is_file():
            raise DigestError(
                f"{path}: config file not found",
                hint="pass an existing file with --config, or omit it to use ./digest.toml",
            )
    try:
        raw = file.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DigestError(f"{file}: cannot read config: {exc}", hint="save it as UTF-8") from exc
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise DigestError(
            f"{file}: invalid TOML: {exc}", hint="fix the syntax at that line"
        ) from exc
    return parse_config(data, file.resolve().parent, str(file))
