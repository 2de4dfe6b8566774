"""``digest check``: what an email engineer checks before a newsletter goes out.

:func:`check_files` looks at a built digest (``digest.html``, ``digest.txt``,
``digest.eml``) and returns :class:`Finding` values, each an ``error`` or a
``warning`` with the rule's name and a one-line detail. ``digest build`` runs
the same checks on what it just rendered and prints them as warnings.

The HTML is parsed into a small tree; the ``<style>`` rules that clients
honour (plain and ``prefers-color-scheme: dark``) are matched with a small
selector engine (tags, classes, attributes, descendant and child), so text
size and contrast are computed for every piece of visible text in the light
and in the dark scheme. The colour functions here are also what ``render``
uses to derive readable colours from the configured accent.
"""

from __future__ import annotations

import colorsys
import email
import itertools
import json
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email import policy as email_policy
from functools import cached_property, lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from .errors import DigestError

GMAIL_CLIP_BYTES = 102_000
MIN_FONT_PX = 14.0
MIN_CONTRAST = 4.5
MAX_TEXT_COLUMNS = 78
MAX_WIDTH_PX = 600
PREHEADER_RANGE = (90, 140)
CANIEMAIL = "caniemail_support.json"

# --- colours -----------------------------------------------------------------

Color = tuple[float, float, float]
_NAMED = {
    "white": "#ffffff",
    "black": "#000000",
    "red": "#ff0000",
    "green": "#008000",
    "blue": "#0000ff",
    "gray": "#808080",
    "grey": "#808080",
    "silver": "#c0c0c0",
    "navy": "#000080",
    "yellow": "#ffff00",
    "orange": "#ffa500",
    "purple": "#800080",
    "maroon": "#800000",
    "teal": "#008080",
}


def parse_color(value: str) -> Color | None:
    """``#rgb``, ``#rrggbb``, ``rgb(r, g, b)`` or a basic colour name as 0-1
    RGB; ``None`` for anything else (including ``transparent``)."""
    v = value.strip().lower()
    v = _NAMED.get(v, v)
    m = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", v)
    if m:
        h = m.group(1)
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255)
    m = re.fullmatch(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)", v)
    if m:
        if m.group(4) is not None and float(m.group(4)) < 1:
            return None
        return (int(m.group(1)) / 255, int(m.group(2)) / 255, int(m.group(3)) / 255)
    return None


# A digest repeats a handful of colours thousands of times: each pair is worked out once.
@lru_cache(maxsize=1024)
def to_hex(color: Color) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in color)


@lru_cache(maxsize=1024)
def luminance(color: Color) -> float:
    """WCAG 2 relative luminance."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@lru_cache(maxsize=1024)
def contrast(fg: str | Color, bg: str | Color) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    a = parse_color(fg) if isinstance(fg, str) else fg
    b = parse_color(bg) if isinstance(bg, str) else bg
    if a is None or b is None:
        raise ValueError(f"not a colour: {fg!r} / {bg!r}")
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def adjust_for_contrast(color: str, background: str, ratio: float = MIN_CONTRAST) -> str:
    """``color`` as is when it reaches ``ratio`` on ``background``, else the
    same hue made darker (on light backgrounds) or lighter until it does."""
    c = parse_color(color)
    bg = parse_color(background)
    if c is None or bg is None:
        raise ValueError(f"not a colour: {color!r} / {background!r}")
    if contrast(c, bg) >= ratio:
        return to_hex(c)
    h, lightness, s = colorsys.rgb_to_hls(*c)
    darker = luminance(bg) > 0.18
    for step in range(1, 101):
        lv = lightness * (1 - step / 100) if darker else lightness + (1 - lightness) * step / 100
        candidate = colorsys.hls_to_rgb(h, lv, s)
        if contrast(candidate, bg) >= ratio:
            return to_hex(candidate)
    return "#000000" if darker else "#ffffff"


# --- findings ----------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.level}: {self.rule}: {self.detail}"


def _snippet(text: str, n: int = 50) -> str:
    t = " ".join(text.split())
    return repr(t if len(t) <= n else t[: n - 1] + "…")


# --- a small HTML tree -------------------------------------------------------

VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    @cached_property  # asked for by every rule tried on the node
    def classes(self) -> frozenset[str]:
        return frozenset(self.attrs.get("class", "").split())

    def text(self) -> str:
        out: list[str] = []
        for c in self.children:
            out.append(c if isinstance(c, str) else c.text())
        return "".join(out)

    def iter(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root
        self.comments: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)
        self.current.children.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def parse_html(html: str) -> _TreeBuilder:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder


# --- a small CSS engine ------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    media: str  # "" = always
    selectors: tuple[str, ...]
    decls: tuple[tuple[str, str, bool], ...]  # (property, value, !important)


def parse_declarations(text: str) -> list[tuple[str, str, bool]]:
    out = []
    for part in text.split(";"):
        if ":" not in part:
            continue
        prop, value = part.split(":", 1)
        value = value.strip()
        important = value.lower().endswith("!important")
        if important:
            value = value[: -len("!important")].strip()
        out.append((prop.strip().lower(), value, important))
    return out


def parse_css(text: str, media: str = "") -> list[Rule]:
    """Rules and ``@media`` blocks (other at-rules are skipped)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    rules: list[Rule] = []
    i = 0
    n = len(text)
    while i < n:
        brace = text.find("{", i)
        if brace < 0:
            break
        head = text[i:brace].strip()
        depth, j = 1, brace + 1
        while j < n and depth:
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
            j += 1
        body = text[brace + 1 : j - 1]
        if head.lower().startswith("@media"):
            rules.extend(parse_css(body, head[6:].strip().lower()))
        elif head.startswith("@"):
            pass
        elif head:
            selectors = tuple(s.strip() for s in head.split(",") if s.strip())
            rules.append(Rule(media, selectors, tuple(parse_declarations(body))))
        i = j
    return rules


_COMPOUND = re.compile(r"(\*|[a-zA-Z][\w-]*)?((?:[.#][\w-]+|\[[^\]]+\]|:root)*)$")


# A part of a compound: (kind, name, has a value, value); kind is ".", "#",
# ":" (:root) or "[" (an attribute).
_Part = tuple[str, str, bool, str]


@lru_cache(maxsize=4096)
def _parse_compound(compound: str) -> tuple[str, tuple[_Part, ...]] | None:
    """(tag or "", parts) of one compound selector, parsed once; None when it
    is not modelled (pseudo-classes and the like)."""
    m = _COMPOUND.match(compound)
    if not m:
        return None
    tag, rest = m.group(1), m.group(2)
    parts: list[_Part] = []
    for part in re.findall(r"[.#][\w-]+|\[[^\]]+\]|:root", rest):
        if part.startswith((".", "#")):
            parts.append((part[0], part[1:], False, ""))
        elif part == ":root":
            parts.append((":", "", False, ""))
        else:
            name, _, value = part[1:-1].partition("=")
            parts.append(("[", name.strip(), bool(value), value.strip("\"' ")))
    return ("" if not tag or tag == "*" else tag.lower()), tuple(parts)


def _match_compound(node: Node, compound: str) -> bool:
    parsed = _parse_compound(compound)
    if parsed is None:
        return False  # pseudo-classes and the like: not modelled, never match
    tag, parts = parsed
    if tag and node.tag != tag:
        return False
    for kind, name, has_value, value in parts:
        if kind == ".":
            if name not in node.classes:
                return False
        elif kind == "#":
            if node.attrs.get("id") != name:
                return False
        elif kind == ":":
            if node.tag != "html":
                return False
        else:
            if name not in node.attrs:
                return False
            if has_value and node.attrs[name] != value:
                return False
    return True


@lru_cache(maxsize=4096)
def _selector_tokens(selector: str) -> tuple[str, ...]:
    return tuple(re.findall(r">|[^\s>]+", selector))


def matches(node: Node, selector: str) -> bool:
    """Descendant (space) and child (``>``) combinators over compounds."""
    tokens = _selector_tokens(selector)
    if not tokens:
        return False
    if not _match_compound(node, tokens[-1]):
        return False
    current: Node | None = node
    i = len(tokens) - 2
    while i >= 0:
        if tokens[i] == ">":
            current = current.parent if current else None
            if current is None or not _match_compound(current, tokens[i - 1]):
                return False
            i -= 2
        else:
            current = current.parent if current else None
            while current is not None and not _match_compound(current, tokens[i]):
                current = current.parent
            if current is None:
                return False
            i -= 1
    return True


def _media_applies(media: str, dark: bool) -> bool:
    if not media:
        return True
    if "prefers-color-scheme" in media:
        return dark == ("dark" in media)
    return False  # width queries and the like only change layout


@dataclass
class Style:
    color: Color
    background: Color
    font_px: float
    hidden: bool


def _font_px(value: str, inherited: float) -> float:
    m = re.fullmatch(r"\s*([\d.]+)\s*(px|pt|em|rem|%)?\s*", value)
    if not m:
        return inherited
    n = float(m.group(1))
    unit = m.group(2) or "px"
    return {
        "px": n,
        "pt": n * 4 / 3,
        "em": n * inherited,
        "rem": n * 16,
        "%": n * inherited / 100,
    }[unit]


def _background_color(value: str) -> Color | None:
    for token in re.split(r"\s+(?![^(]*\))", value.strip()):
        c = parse_color(token)
        if c is not None:
            return c
    return None


def _rule_index(rules: list[Rule]) -> Callable[[Node], list[Rule]]:
    """The rules a node could match, in their order: a rule is filed under a
    class, id or tag its selectors' last compound requires, so each node is
    tested only against rules that name something it has (``matches``
    still decides)."""
    filed: dict[tuple[str, str], set[int]] = {}
    anywhere: set[int] = set()
    for k, rule in enumerate(rules):
        for selector in rule.selectors:
            tokens = _selector_tokens(selector)
            parsed = _parse_compound(tokens[-1]) if tokens else None
            if parsed is None:
                continue  # never matches
            tag, parts = parsed
            key = next(((kind, name) for kind, name, _, _ in parts if kind in ".#"), None)
            if key is None and tag:
                key = ("", tag)
            if key is None:
                anywhere.add(k)
            else:
                filed.setdefault(key, set()).add(k)

    def candidates(node: Node) -> list[Rule]:
        found = set(anywhere)
        found.update(filed.get(("", node.tag), ()))
        for name in node.classes:
            found.update(filed.get((".", name), ()))
        if "id" in node.attrs:
            found.update(filed.get(("#", node.attrs["id"]), ()))
        return [rules[k] for k in sorted(found)]

    return candidates


def computed_styles(root: Node, rules: list[Rule], dark: bool) -> dict[int, Style]:
    """Colour, background, font size and visibility of every element."""
    active = [r for r in rules if _media_applies(r.media, dark)]
    candidates = _rule_index(active)
    default = Style(
        color=parse_color("#ffffff" if dark else "#000000") or (0, 0, 0),
        background=parse_color("#121212" if dark else "#ffffff") or (1, 1, 1),
        font_px=16.0,
        hidden=False,
    )
    styles: dict[int, Style] = {}

    def visit(node: Node, inherited: Style) -> None:
        normal: dict[str, str] = {}
        important: dict[str, str] = {}
        for rule in candidates(node):
            if any(matches(node, s) for s in rule.selectors):
                for prop, value, imp in rule.decls:
                    (important if imp else normal)[prop] = value
        inline = {p: v for p, v, _ in parse_declarations(node.attrs.get("style", ""))}
        props = {**normal, **inline, **important}
        style = Style(inherited.color, inherited.background, inherited.font_px, inherited.hidden)
        if node.tag == "a" and "color" not in props:
            style.color = parse_color("#9e9eff" if dark else "#0000ee") or style.color
        if "color" in props:
            style.color = parse_color(props["color"]) or style.color
        bg = None
        if "bgcolor" in node.attrs:
            bg = parse_color(node.attrs["bgcolor"])
        for prop in ("background", "background-color"):
            if prop in props:
                bg = _background_color(props[prop]) or bg
        if bg is not None:
            style.background = bg
        if "font-size" in props:
            style.font_px = _font_px(props["font-size"], inherited.font_px)
        if (
            props.get("display", "").strip() == "none"
            or props.get("visibility", "").strip() == "hidden"
            or "hidden" in node.attrs
            or node.tag in ("head", "title", "style", "script")
        ):
            style.hidden = True
        styles[id(node)] = style
        for child in node.children:
            if isinstance(child, Node):
                visit(child, style)

    visit(root, default)
    return styles


# --- the HTML rules ------------------------------------------------------------

MERGE_TAG = re.compile(
    r"^(\*\|[A-Za-z0-9_:-]+\|\*"  # Mailchimp *|UNSUB|*
    r"|\{\{\{?\s*[\w.:\s-]+\}?\}\}"  # {{unsubscribe}}, {{{unsubscribe}}}
    r"|%%?[\w.:-]+%%?"  # %unsubscribe_url%, %%unsubscribe%%
    r"|\[[\w.:-]+\]"  # [unsubscribe]
    r"|<%[^%>]+%>"  # <%asm_group_unsubscribe_raw_url%>
    r"|\{\$[\w.-]+\}"  # {$unsubscribe}
    r"|\$[\w.-]+\$"  # $unsubscribe$
    r")$"
)
GENERIC_LINK_TEXT = frozenset(
    {
        "click here",
        "here",
        "read more",
        "more",
        "link",
        "this",
        "learn more",
        "continue reading",
        "read",
        "details",
        "view",
    }
)
FORBIDDEN_TAGS = ("script", "form", "iframe", "object", "embed", "applet", "frame", "frameset")
# Features the MJML layout relies on knowingly: Outlook gets its own tables in
# conditional comments, and dark mode is an enhancement where supported.
EXPECTED_FEATURES = frozenset(
    {
        "css-max-width",
        "css-outline",  # MJML's image reset
        "css-word-spacing",  # MJML's body reset
        "css-display",
        "css-direction",
        "css-at-media",
        "css-at-media-prefers-color-scheme",
        "css-color-scheme",
        "html-meta-color-scheme",
        "css-important",
        "css-selector-attribute",
        "css-selector-child",
        "css-selector-class",
        "css-selector-descendant",
        "css-selector-grouping",
        "css-selector-type",
        "css-pseudo-class-root",
        "css-vertical-align",
        "css-width",
        "css-height",
        "css-border-spacing",
        "css-padding",
        "css-margin",
        "css-line-height",
        "css-opacity",
        "css-overflow",
        "css-max-height",
        "html-role",
        "html-aria-label",
        "html-dir",
        "html-lang",
    }
)
CHECKED_CLIENTS = ("gmail.desktop-webmail", "outlook.windows")


def is_allowed_href(href: str) -> bool:
    h = href.strip()
    return h.lower().startswith(("https://", "mailto:")) or bool(MERGE_TAG.match(h))


_INVISIBLE = re.compile(r"[\u034f\u200c\u200b\u00a0\u2007\u00ad]")


def check_html(html: str, budget: int = GMAIL_CLIP_BYTES) -> list[Finding]:
    found: list[Finding] = []

    def err(rule: str, detail: str) -> None:
        found.append(Finding("error", rule, detail))

    def warn(rule: str, detail: str) -> None:
        found.append(Finding("warning", rule, detail))

    size = len(html.encode("utf-8"))
    if size > GMAIL_CLIP_BYTES:
        err("size", f"digest.html is {size:,} bytes; Gmail clips over {GMAIL_CLIP_BYTES:,}")
    elif size > budget:
        warn("size", f"digest.html is {size:,} bytes, over email.max_html_bytes ({budget:,})")

    tree = parse_html(html)
    nodes = list(tree.root.iter())
    html_node = next((n for n in nodes if n.tag == "html"), None)
    lang = html_node.attrs.get("lang", "") if html_node else ""
    if not lang or lang.lower() in ("und", "zxx"):
        err("lang", f"<html lang> is {lang or 'missing'!r}; set newsletter.language")
    if not html_node or html_node.attrs.get("dir") not in ("ltr", "rtl"):
        warn("dir", '<html dir> is not "ltr" or "rtl"')
    titles = [n for n in nodes if n.tag == "title"]
    if not titles or not titles[0].text().strip():
        err("title", "no <title>")

    # comments: only Outlook's conditional comments may stay
    for c in tree.comments:
        if not re.match(r"\s*(\[if\b|<!\[endif\]|\[endif\])", c):
            err("comments", f"a comment is left in the HTML: {_snippet(c)}")
            break

    # self-contained
    for n in nodes:
        if n.tag in FORBIDDEN_TAGS:
            err("forbidden-tag", f"<{n.tag}> is not allowed in email")
        if n.tag == "link" and "stylesheet" in n.attrs.get("rel", "").lower():
            err("external-css", f"external stylesheet {n.attrs.get('href', '')!r}")
        if n.tag == "img":
            if "alt" not in n.attrs:
                err("img-alt", f"image without alt: {n.attrs.get('src', '')!r}")
            src = n.attrs.get("src", "")
            if not src.lower().startswith("https://") and not src.lower().startswith("cid:"):
                err("img-src", f"image not on https: {src!r}")
        for attr, value in n.attrs.items():
            if attr.startswith("on"):
                err("forbidden-tag", f"event handler {attr} on <{n.tag}>")
            if attr in ("href", "src") and value.strip().lower().startswith("javascript:"):
                err("links", f"javascript: URL on <{n.tag}>")
    css = "\n".join(tree.styles)
    if re.search(r"@import|@font-face|fonts\.googleapis", css, re.I):
        err("web-fonts", "web fonts or @import in <style>; the email must be self-contained")

    # links
    for a in (n for n in nodes if n.tag == "a"):
        href = a.attrs.get("href")
        if href is None:
            continue
        if href.lower().startswith("http://"):
            warn("links", f"insecure http link: {href[:80]!r}")
        elif not is_allowed_href(href):
            err("links", f"link not absolute https:, mailto: or a merge tag: {href[:80]!r}")
        label = " ".join(a.text().split())
        if not label:
            label = " ".join(i.attrs.get("alt", "") for i in a.iter() if i.tag == "img").strip()
        if not label:
            err("link-text", f"link without text: {href[:80]!r}")
        elif label.lower().strip(" .…:→»") in GENERIC_LINK_TEXT:
            warn("link-text", f"link text {label!r} does not say where it goes")

    # headings in order
    levels = [int(n.tag[1]) for n in nodes if re.fullmatch(r"h[1-6]", n.tag)]
    if not levels or levels[0] != 1:
        err("headings", "the first heading is not an <h1>")
    if levels.count(1) > 1:
        warn("headings", f"{levels.count(1)} <h1> headings; use one for the masthead")
    for prev, cur in itertools.pairwise(levels):
        if cur > prev + 1:
            err("headings", f"<h{cur}> follows <h{prev}>: a heading level is skipped")
            break

    # layout tables
    bare = [t for t in nodes if t.tag == "table" and t.attrs.get("role") != "presentation"]
    if bare and not any(n.tag == "th" for t in bare for n in t.iter()):
        err("tables", f'{len(bare)} layout table(s) without role="presentation"')

    # dark mode, viewport
    metas = {
        n.attrs.get("name", "").lower(): n.attrs.get("content", "")
        for n in nodes
        if n.tag == "meta"
    }
    for name in ("color-scheme", "supported-color-schemes"):
        if "dark" not in metas.get(name, ""):
            err("dark-mode", f'no <meta name="{name}" content="light dark">')
    if "viewport" not in metas:
        err("responsive", "no viewport <meta>")
    rules = parse_css(css)
    if not any("prefers-color-scheme" in r.media and "dark" in r.media for r in rules):
        warn("dark-mode", "no @media (prefers-color-scheme: dark) styles")

    # content width
    for n in nodes:
        for m in re.finditer(r"(?<![\w-])width\s*:\s*(\d+)px", n.attrs.get("style", "")):
            if int(m.group(1)) > MAX_WIDTH_PX:
                err("width", f"<{n.tag}> is {m.group(1)}px wide; at most {MAX_WIDTH_PX}px")
        w = n.attrs.get("width", "")
        if w.isdigit() and int(w) > MAX_WIDTH_PX:
            err("width", f"<{n.tag} width={w}> is wider than {MAX_WIDTH_PX}px")

    # preheader: the first text in <body>, hidden
    body = next((n for n in nodes if n.tag == "body"), None)
    light = computed_styles(tree.root, rules, dark=False)
    first = next(
        (c for c in (body.children if body else []) if isinstance(c, Node)),
        None,
    )
    if first is None or not light[id(first)].hidden or not first.text().strip():
        err("preheader", "no hidden preheader at the top of <body>")
    else:
        text = " ".join(
            re.sub(r"[\u034f\u200c\u200b\u00a0\u2007\u00ad]", " ", first.text()).split()
        )
        lo, hi = PREHEADER_RANGE
        if not lo <= len(text) <= hi:
            warn("preheader", f"preheader is {len(text)} characters; aim for {lo}-{hi}")

    # readable text: size and contrast, light and dark
    dark = computed_styles(tree.root, rules, dark=True)
    seen: set[tuple[str, str]] = set()
    for n in nodes:
        texts = [c for c in n.children if isinstance(c, str) and c.strip()]
        if not texts or light[id(n)].hidden or n.tag in ("style", "title", "script"):
            continue
        sample = texts[0]
        s = light[id(n)]
        if s.font_px < MIN_FONT_PX and ("font", str(s.font_px)) not in seen:
            seen.add(("font", str(s.font_px)))
            err("font-size", f"text at {s.font_px:g}px (< {MIN_FONT_PX:g}px): {_snippet(sample)}")
        for scheme, st in (("light", s), ("dark", dark[id(n)])):
            ratio = contrast(st.color, st.background)
            key = (scheme, f"{to_hex(st.color)}/{to_hex(st.background)}")
            if ratio < MIN_CONTRAST and key not in seen:
                seen.add(key)
                err(
                    "contrast",
                    f"{scheme} scheme: {to_hex(st.color)} on {to_hex(st.background)} is "
                    f"{ratio:.2f}:1 (< {MIN_CONTRAST}:1): {_snippet(sample)}",
                )

    found.extend(check_caniemail(nodes, rules, css))
    return found


_CSS_FEATURE_ALIASES = {
    "background-color": "css-background-color",
    "border-radius": "css-border-radius",
    "text-decoration": "css-text-decoration",
}


def load_caniemail(path: str | None = None) -> dict[str, Any] | None:
    """The Can I email support table, if one is found: ``path``, else
    ``$DIGEST_CANIEMAIL``, else ``caniemail_support.json`` in the package."""
    import os

    candidates = [path, os.environ.get("DIGEST_CANIEMAIL")]
    here = Path(__file__).resolve().parent
    candidates.append(str(here / "data" / CANIEMAIL))
    for c in candidates:
        if c and Path(c).is_file():
            try:
                data = json.loads(Path(c).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            return data if isinstance(data, dict) else None
    return None


def _feature_of_property(prop: str, features: Mapping[str, Any]) -> str | None:
    prop = prop.lstrip("-")
    if prop.startswith(("mso-", "ms-", "webkit-", "moz-")):
        return None
    for candidate in (f"css-{prop}", f"css-{prop.split('-')[0]}"):
        if candidate in features:
            return candidate
    return None


def check_caniemail(
    nodes: list[Node], rules: list[Rule], css: str, data: Any = None
) -> list[Finding]:
    """Warn once per feature that Gmail or Outlook (latest versions in the
    table) does not support and that the template did not plan for."""
    table = data if data is not None else load_caniemail()
    if not table:
        return []
    features = table.get("features", {})
    clients = table.get("clients", {})
    used: dict[str, str] = {}
    for n in nodes:
        if n.tag.startswith("#"):
            continue
        tag_feature = f"html-{n.tag}" if f"html-{n.tag}" in features else None
        if re.fullmatch(r"h[1-6]", n.tag):
            tag_feature = "html-h1-h6"
        if tag_feature:
            used.setdefault(tag_feature, f"<{n.tag}>")
        for prop, _value, _imp in parse_declarations(n.attrs.get("style", "")):
            f = _feature_of_property(prop, features)
            if f:
                used.setdefault(f, prop)
    for rule in rules:
        for prop, _value, _imp in rule.decls:
            f = _feature_of_property(prop, features)
            if f:
                used.setdefault(f, prop)
    found = []
    for feature in sorted(used):
        if feature in EXPECTED_FEATURES:
            continue
        support = features[feature].get("support", {})
        missing = []
        for client in CHECKED_CLIENTS:
            versions = support.get(client, {})
            if not versions:
                continue
            latest = versions[sorted(versions)[-1]]
            if str(latest).startswith("n"):
                missing.append(clients.get(client, client))
        if missing:
            found.append(
                Finding(
                    "warning",
                    "client-support",
                    f"{used[feature]} ({features[feature].get('title', feature)}) is not "
                    f"supported by {' and '.join(missing)} (caniemail.com)",
                )
            )
    return found


# --- the plain text ------------------------------------------------------------

_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")
_URL = re.compile(r"(https?|mailto):\S+")


def visible_text(html: str) -> str:
    """The text a reader sees in the HTML (hidden parts left out), one line."""
    tree = parse_html(html)
    rules = parse_css("\n".join(tree.styles))
    styles = computed_styles(tree.root, rules, dark=False)
    out: list[str] = []
    for n in tree.root.iter():
        if styles[id(n)].hidden:
            continue
        out.extend(c for c in n.children if isinstance(c, str))
    return " ".join(" ".join(out).split())


def headings(html: str) -> list[tuple[int, str]]:
    return _headings(parse_html(html))


def _headings(tree: _TreeBuilder) -> list[tuple[int, str]]:
    return [
        (int(n.tag[1]), " ".join(n.text().split()))
        for n in tree.root.iter()
        if re.fullmatch(r"h[1-6]", n.tag)
    ]


def check_text(text: str, html: str | None = None) -> list[Finding]:
    found: list[Finding] = []
    long = [
        i
        for i, line in enumerate(text.splitlines(), 1)
        if len(line) > MAX_TEXT_COLUMNS and not _URL.search(line)
    ]
    if long:
        found.append(
            Finding(
                "error",
                "text-width",
                f"{len(long)} line(s) of digest.txt over {MAX_TEXT_COLUMNS} columns "
                f"(first: line {long[0]})",
            )
        )
    seen: list[str] = []  # the HTML's visible text, worked out only if markup is found

    def seen_html() -> str:
        if not seen:
            seen.append(visible_text(html).casefold() if html is not None else "")
        return seen[0]

    for pattern, what in ((_TAG, "an HTML tag"), (_ENTITY, "an HTML entity")):
        for m in pattern.finditer(text):
            if m.group(0).casefold() not in seen_html():  # the article's own text is fine
                found.append(
                    Finding("error", "text-markup", f"digest.txt contains {what}: {m.group(0)!r}")
                )
                break
    if not re.search(r"unsubscribe", text, re.I):
        found.append(Finding("error", "text-unsubscribe", "digest.txt has no unsubscribe line"))
    cited = set(re.findall(r"\[(\d+)\](?!\s*(?:https?|mailto):)", text))
    listed = set(re.findall(r"^\[(\d+)\]\s+\S+", text, re.M))
    for number in sorted(cited - listed, key=int):
        found.append(
            Finding("error", "text-links", f"reference [{number}] has no link under 'Links:'")
        )
    if html is not None:
        flat = " ".join(text.split()).casefold()
        # themes (h2), articles (h3) and list items (the contents, articles
        # listed by title) must all be in the text version too
        tree = parse_html(html)
        items = [t for level, t in _headings(tree) if level > 1]
        items += [" ".join(n.text().split()) for n in tree.root.iter() if n.tag == "li"]
        missing = [t for t in items if t and t.casefold() not in flat]
        if missing:
            found.append(
                Finding(
                    "error",
                    "text-consistency",
                    f"{len(missing)} heading(s) or list item(s) of the HTML missing from "
                    f"digest.txt, e.g. {_snippet(missing[0])}",
                )
            )
    return found


# --- the message -------------------------------------------------------------

EXPECTED_HEADERS = frozenset(
    {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "content-type",
        "content-transfer-encoding",
    }
)


def check_eml(
    raw: bytes,
    html: bytes | None = None,
    text: bytes | None = None,
    unsubscribe_configured: bool = False,
    merge_tag_unsubscribe: bool = False,
) -> list[Finding]:
    found: list[Finding] = []

    def err(rule: str, detail: str) -> None:
        found.append(Finding("error", rule, detail))

    lines = raw.split(b"\r\n") if b"\r\n" in raw else raw.split(b"\n")
    too_long = [i for i, line in enumerate(lines, 1) if len(line) > 998]
    if too_long:
        err("eml-line-length", f"{len(too_long)} line(s) over 998 octets (first: {too_long[0]})")
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    if any(b > 0x7F for b in head):
        err("eml-encoding", "raw non-ASCII in the headers; encode them per RFC 2047")
    msg = email.message_from_bytes(raw, policy=email_policy.default)
    names = [k.lower() for k in msg]
    for name in ("from", "to", "subject", "date", "message-id", "mime-version"):
        if name not in names:
            err("eml-headers", f"no {name.title()} header")
    for name in sorted(set(names) - EXPECTED_HEADERS):
        err("eml-headers", f"unexpected header {name!r} (header injection?)")
    for name in sorted({n for n in names if names.count(n) > 1}):
        err("eml-headers", f"{name} appears {names.count(name)} times")
    message_id = str(msg.get("Message-ID", ""))
    domain = message_id.rstrip(">").rpartition("@")[2].lower()
    hosts = {socket.gethostname().lower(), socket.getfqdn().lower(), "localhost"}
    if message_id and (not domain or domain in hosts or "." not in domain):
        err("eml-message-id", f"Message-ID {message_id!r} is not on the newsletter's domain")
    if msg.get_content_type() != "multipart/alternative":
        err("eml-structure", f"the message is {msg.get_content_type()}, not multipart/alternative")
    else:
        parts = list(msg.iter_parts())
        types = [p.get_content_type() for p in parts]
        if types != ["text/plain", "text/html"]:
            err("eml-structure", f"parts are {types}; want text/plain then text/html")
        for p in parts:
            if (p.get_content_charset() or "").lower() != "utf-8":
                err("eml-structure", f"{p.get_content_type()} is not UTF-8")
            if str(p.get("Content-Transfer-Encoding", "")).lower() != "quoted-printable":
                err("eml-structure", f"{p.get_content_type()} is not quoted-printable")
        bodies = {p.get_content_type(): p.get_payload(decode=True) for p in parts}
        for kind, data, name in (
            ("text/html", html, "digest.html"),
            ("text/plain", text, "digest.txt"),
        ):
            body = bodies.get(kind)
            if data is None or not isinstance(body, bytes):
                continue
            if body.replace(b"\r\n", b"\n").rstrip(b"\n") != data.rstrip(b"\n"):
                err("eml-stale", f"the {kind} part differs from {name}; rebuild")
    unsub = str(msg.get("List-Unsubscribe", ""))
    if unsubscribe_configured:
        if not re.search(r"<(https://|mailto:)[^>]+>", unsub):
            err("list-unsubscribe", "no https or mailto List-Unsubscribe header")
        if "<https://" in unsub and (
            str(msg.get("List-Unsubscribe-Post", "")) != "List-Unsubscribe=One-Click"
        ):
            err("list-unsubscribe", "no List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    elif not unsub:
        detail = (
            "no List-Unsubscribe header: bulk senders to Gmail and Yahoo need one-click "
            "unsubscribe; set newsletter.unsubscribe_url (https) or email.unsubscribe_mailto"
        )
        if merge_tag_unsubscribe:
            detail = (
                "no List-Unsubscribe header: newsletter.unsubscribe_url is a merge tag, so "
                "your ESP must add it (or set email.unsubscribe_mailto)"
            )
        found.append(Finding("warning", "list-unsubscribe", detail))
    if "list-id" not in names:
        found.append(Finding("warning", "list-id", "no List-Id header"))
    return found


# --- putting it together -----------------------------------------------------------

FILES = ("digest.html", "digest.txt", "digest.eml")


def check_files(files: Mapping[str, bytes], config: Any = None) -> list[Finding]:
    """Every rule over the built files (any of them may be missing)."""
    from .config import Config

    config = config or Config()
    found: list[Finding] = []
    html_b = files.get("digest.html")
    text_b = files.get("digest.txt")
    html = html_b.decode("utf-8", "replace") if html_b is not None else None
    nl = config.newsletter
    if html is not None:
        found.extend(check_html(html, config.email.max_html_bytes))
        for name, value in (
            ("newsletter.unsubscribe_url", nl.unsubscribe_url),
            ("newsletter.archive_url", nl.archive_url),
        ):
            if value and not is_allowed_href(value):
                found.append(
                    Finding(
                        "error", "config-links", f"{name} is not https:, mailto: or a merge tag"
                    )
                )
    if text_b is not None:
        found.extend(check_text(text_b.decode("utf-8", "replace"), html))
    eml = files.get("digest.eml")
    if eml is not None:
        found.extend(
            check_eml(
                eml,
                html_b,
                text_b,
                unsubscribe_configured=bool(
                    nl.unsubscribe_url.lower().startswith("https://")
                    or config.email.unsubscribe_mailto
                ),
                merge_tag_unsubscribe=bool(MERGE_TAG.match(nl.unsubscribe_url.strip())),
            )
        )
    order = {"error": 0, "warning": 1}
    return sorted(dict.fromkeys(found), key=lambda f: order.get(f.level, 2))


def check_dir(path: str, config: Any = None) -> list[Finding]:
    """Read a built digest folder and check it."""
    folder = Path(path)
    if not folder.is_dir():
        raise DigestError(f"{path}: no such folder", hint="run `digest build` first, or pass DIR")
    files: dict[str, bytes] = {}
    for name in FILES:
        p = folder / name
        if p.is_file():
            try:
                files[name] = p.read_bytes()
            except OSError as exc:
                raise DigestError(
                    f"{p}: cannot read: {exc.strerror}", hint="check permissions"
                ) from exc
    if "digest.html" not in files:
        raise DigestError(f"{path}: no digest.html here", hint="run `digest build -o DIR` first")
    return check_files(files, config)


CheckFn = Callable[..., list[Finding]]
CHECKS: dict[str, CheckFn] = {"html": check_html, "text": check_text, "eml": check_eml}
