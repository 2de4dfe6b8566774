"""Language tools shared by the summarize and classify stages.

Nothing here downloads anything: sentences are split by ``sentencex`` (rules
that ship in its wheel), words by a regular expression, stems by the Snowball
stemmers of ``snowballstemmer``, stop words come from sumy's package data and
languages are detected by ``py3langid`` (model inside its wheel), after a
cheap stop-word check that settles most English text without loading it.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

# ISO 639-1 code -> sumy's language name (stop words, summarizer language).
SUMY_LANGUAGES = {
    "ar": "arabic",
    "cs": "czech",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "he": "hebrew",
    "it": "italian",
    "ja": "japanese",
    "ko": "korean",
    "pl": "polish",
    "pt": "portuguese",
    "sk": "slovak",
    "sv": "swedish",
    "th": "thai",
    "uk": "ukrainian",
    "zh": "chinese",
}
# Languages written without spaces: words are single characters for our purposes.
UNSPACED = frozenset({"zh", "ja", "th"})
RTL = frozenset({"ar", "he", "fa", "ur", "yi"})

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# The same words in ASCII text, found half again as fast: for ASCII
# characters [^\W_] is [A-Za-z0-9], and ’ cannot occur.
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*")


def _words_in(text: str) -> list[str]:
    return (_ASCII_WORD if text.isascii() else _WORD).findall(text)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")


# ISO 639-1 code -> Snowball stemmer name, for languages sumy has no stop words for.
SNOWBALL_ONLY = {
    "ca": "catalan",
    "da": "danish",
    "eu": "basque",
    "fi": "finnish",
    "hu": "hungarian",
    "id": "indonesian",
    "lt": "lithuanian",
    "nl": "dutch",
    "no": "norwegian",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "tr": "turkish",
}


def sumy_dom() -> Any:
    """sumy's document model (``sumy.models.dom``), imported with ``requests`` deferred.

    sumy imports ``requests`` at start-up only to fetch URLs, which digest
    never asks of it; that import is half of what summarizing imports
    (0.1 s, before a build can start its workers). Until something uses it,
    ``requests`` is a stand-in module that imports the real one on first use.
    (The standard library's ``LazyLoader`` does not hold: on Python 3.11 the
    next ``import requests``, sumy's own, loads it.)
    """
    import sys

    if "requests" not in sys.modules:
        import importlib.util

        if importlib.util.find_spec("requests") is not None:
            sys.modules["requests"] = _Deferred("requests")
    import sumy.models.dom

    return sumy.models.dom


class _Deferred(types.ModuleType):
    """A module that imports the real one under its name when an attribute is
    first asked of it, and from then on hands every attribute on."""

    def __getattr__(self, attr: str) -> Any:
        import importlib
        import sys

        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


@lru_cache(maxsize=32)
def stop_words(language: str) -> frozenset[str]:
    """Stop words for an ISO code from sumy's package data (empty when sumy has none).

    Read straight from the data file: ``sumy.utils`` would import ``requests``.
    """
    name = SUMY_LANGUAGES.get(language)
    if name is None:
        return frozenset()
    from importlib.resources import files

    try:
        text = (files("sumy") / "data" / "stopwords" / f"{name}.txt").read_text("utf-8")
    except (OSError, ModuleNotFoundError):
        return frozenset()
    return frozenset(w.strip().lower() for w in text.splitlines() if w.strip())


def stemmer_name(language: str) -> str | None:
    """The Snowball algorithm used for an ISO code, or None (words are only lower-cased)."""
    import snowballstemmer

    name = SUMY_LANGUAGES.get(language) or SNOWBALL_ONLY.get(language) or language
    return name if name in snowballstemmer.algorithms() else None


@lru_cache(maxsize=32)
def stemmer(language: str) -> Callable[[str], str]:
    """A Snowball stemmer for an ISO code, memoized per word (lower-casing when none exists).

    Articles repeat their words, and so do the articles of one digest: each
    distinct word is stemmed once per process.
    """
    import snowballstemmer

    name = stemmer_name(language)
    if name is None:
        return str.lower
    algo = snowballstemmer.stemmer(name)
    cache: dict[str, str] = {}

    def stem(word: str) -> str:
        s = cache.get(word)
        if s is None:
            s = cache[word] = algo.stemWord(word.lower())
        return s

    return stem


# language -> word as written -> its stem, or "" for a stop word
_CONTENT: dict[str, dict[str, str]] = {}
# language -> word as written -> the number of its stem, or -1 for a stop word
_IDS: dict[str, dict[str, int]] = {}
_STEM_IDS: dict[str, dict[str, int]] = {}


def content_stems(tokens: Iterable[str], language: str) -> list[str]:
    """Stems of the tokens that are not stop words; each distinct token is
    lower-cased, checked and stemmed once per process."""
    return [s for s in _stems(tokens, language) if s]


def _stems(tokens: Iterable[str], language: str) -> list[str]:
    """Per token, its stem, or "" for a stop word; each distinct token is
    lower-cased, checked and stemmed once per process."""
    table = _CONTENT.setdefault(language, {})
    stops = stop_words(language)
    stem = stemmer(language)
    out: list[str] = []
    for w in tokens:
        s = table.get(w)
        if s is None:
            lw = w.lower()
            s = table[w] = "" if lw in stops else stem(lw)
        out.append(s)
    return out


def content_ids(tokens: Iterable[str], language: str) -> list[int]:
    """Like :func:`content_stems`, as numbers (one per distinct stem in this
    process): what vectorizing needs, with one dictionary look-up a word."""
    tokens = list(tokens)
    return [k for k in word_ids(tokens, language) if k >= 0]


def word_ids(tokens: Sequence[str], language: str) -> list[int]:
    """Per token, the number of its stem as :func:`content_ids` gives it, or
    -1 for a stop word: one look-up a token, done in C for tokens met before."""
    table = _IDS.get(language)
    if table is None:
        table = _IDS[language] = {}
        _STEM_IDS[language] = {}
    out: list[int | None] = list(map(table.get, tokens))
    if None in out:  # words not met before: number them, then look all up again
        _number([w for w in dict.fromkeys(tokens) if w not in table], language, table)
        return list(map(table.__getitem__, tokens))
    return out  # type: ignore[return-value]  # no None in it


def _number(new: list[str], language: str, table: dict[str, int]) -> None:
    """Give each word in ``new`` the number of its stem (-1 for a stop word),
    in the order given."""
    ids = _STEM_IDS[language]
    for w, s in zip(new, _stems(new, language), strict=True):
        table[w] = ids.setdefault(s, len(ids)) if s else -1


def words(text: str, language: str = "en") -> tuple[str, ...]:
    """The words of ``text``, verbatim; in Chinese, Japanese and Thai each character."""
    if language in UNSPACED or (not text.isascii() and _CJK.search(text)):
        out: list[str] = []
        for w in _WORD.findall(text):
            if _CJK.search(w):
                out.extend(ch for ch in w if not ch.isspace())
            else:
                out.append(w)
        return tuple(out)
    return tuple(_words_in(text))


_INITIAL_END = re.compile(r"(?:^|[\s-])[A-Z]\.$")
_INITIAL_START = re.compile(r"^[A-Z]\.")


def split_sentences(text: str, language: str = "en") -> tuple[str, ...]:
    """Sentences of a paragraph, verbatim.

    sentencex sometimes splits inside an abbreviation ("Sino-U. | S. medical");
    a piece that starts in lower case, or that continues a run of initials,
    is joined back to the one before.
    """
    import sentencex

    out: list[str] = []
    for piece in sentencex.segment(language, text):
        s = piece.strip()
        if not s:
            continue
        if out and (s[0].islower() or (_INITIAL_END.search(out[-1]) and _INITIAL_START.match(s))):
            joined = text.find(s, text.find(out[-1]))
            start = text.find(out[-1])
            if start >= 0 and joined >= 0:
                out[-1] = text[start : joined + len(s)]
            else:
                out[-1] = f"{out[-1]} {s}"
            continue
        out.append(s)
    return tuple(out)


class Tokenizer:
    """sumy's tokenizer interface (``language``, ``to_sentences``, ``to_words``)
    over sentencex and a word regex, so sumy never needs NLTK data."""

    def __init__(self, language: str = "en") -> None:
        self.iso = language
        self.language = SUMY_LANGUAGES.get(language, "english")

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return split_sentences(paragraph, self.iso)

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return words(sentence, self.iso)


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text``; "en" for text with too few letters to tell."""
    sample = text[:5000]
    ws = _words_in(sample[:1500].lower())
    if len(ws) >= 8:
        share = sum(map(stop_words("en").__contains__, ws)) / len(ws)
        if share >= 0.3 and not _CJK.search(sample):
            return "en"
    if len(sample.strip()) < 20:
        return "en"
    import py3langid

    lang, _ = py3langid.classify(sample)
    return str(lang)
