"""Stage 3, summarize: pick N sentences of each article, verbatim, in order.

Summarizers are registered by name in :data:`SUMMARIZERS`. ``auto`` (the
default) is ours: it scores the sentences of sumy's document model by
position, centrality and closeness to the headline, leaves out sentences that
cannot stand alone, and picks with maximal marginal relevance so no two say
the same thing. The stock sumy algorithms stay selectable by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from .errors import DigestError
from .model import Article
from .nlp import Tokenizer, content_ids, stemmer, stop_words, sumy_dom, word_ids, words

# name -> (module, class) of sumy's algorithms, imported only when chosen.
SUMY_ALGORITHMS = {
    "edmundson": ("sumy.summarizers.edmundson", "EdmundsonSummarizer"),
    "kl": ("sumy.summarizers.kl", "KLSummarizer"),
    "lexrank": ("sumy.summarizers.lex_rank", "LexRankSummarizer"),
    "lsa": ("sumy.summarizers.lsa", "LsaSummarizer"),
    "luhn": ("sumy.summarizers.luhn", "LuhnSummarizer"),
    "random": ("sumy.summarizers.random", "RandomSummarizer"),
    "reduction": ("sumy.summarizers.reduction", "ReductionSummarizer"),
    "sumbasic": ("sumy.summarizers.sum_basic", "SumBasicSummarizer"),
    "textrank": ("sumy.summarizers.text_rank", "TextRankSummarizer"),
}

Summarizer = Callable[[Any, int, Article], Sequence[str]]

# Sentences that cannot open a summary or stand alone in one (English).
GREETING = re.compile(
    r"^(welcome|hello|hi|hey|dear|greetings|good (morning|afternoon|evening)|"
    r"thanks|thank you|sincere thanks|many thanks|more to come|stay tuned|see you|"
    r"until next time|happy reading|enjoy|cheers)\b",
    re.I,
)
# Opens with a word that points back at an earlier sentence.
PRONOUN = re.compile(
    r"^(he|she|it|they|them|him|this|that|these|those|his|her|its|their|theirs|"
    r"such|there|here|both|the latter|the former|the same)\b",
    re.I,
)
CONNECTIVE = re.compile(
    r"^(also|but|and|or|so|yet|still|then|thus|hence|therefore|however|moreover|"
    r"furthermore|meanwhile|nevertheless|nonetheless|besides|otherwise|instead|"
    r"likewise|similarly|consequently|accordingly|indeed|"
    r"for example|for instance|in addition|as a result|in turn|in contrast|after all|"
    r"on the other hand|last but not least|another|other|which|"
    r"in other words|even so|as such|that said|by contrast|what's more|what’s more|"
    r"on top of that|not only that|"
    r"(the |a )?(second|third|fourth|fifth|next|last|final|other) \w+|"
    r"(second|third|fourth|finally|lastly|first),)\b",
    re.I,
)
# First-person narration (a blog post, a letter) rather than reporting.
FIRST_PERSON = re.compile(r"\b(?:I|[Mm][ey]|[Ww]e|[Uu]s|[Oo]ur|[Yy]our?|MY|WE|OUR|YOUR?)\b")
REPORTING = re.compile(r"\b(said|says|told|added|according to|asked|explained)\b", re.I)
_QUOTES = '"“”'
_LEADING_WORD = re.compile(r"^[\"“‘']?([A-Z][\w'’-]+)\b(?!\s+[A-Z])")


def standalone_penalty(sentence: str, n_words: int, english: bool = True) -> float:
    """0 for a sentence that reads alone; up to 1 for one that cannot, whatever precedes it.

    Pronouns and connectives are left to :func:`needs_previous`: they are fine
    when the sentence before is in the summary too.
    """
    s = sentence.strip()
    if english and GREETING.match(s.lstrip(_QUOTES + "‘'")):
        return 1.0
    p = 0.0
    if n_words < 4 or _few_lowercase_words(s):
        p += 0.9  # a fragment: "By .", "PUBLISHED: .", "08:11 EST, 12 March 2013 ."
    elif n_words < 7:
        p += 0.4
    if s.endswith("?"):
        p += 0.3
    if s.endswith(":") or s[-1:] not in ".!?\"”’')":
        p += 0.4  # a heading or a fragment
    if s[:1] in '"“‘':
        # a direct quotation tells less on its own than reporting does
        p += 0.1
        if sum(s.count(q) for q in _QUOTES) < 2 and "’" not in s:
            p += 0.3  # and this one goes on in the next sentence
    if s[:1].islower():
        p += 0.5
    return min(p, 1.0)


_LOWER_WORD = re.compile(r"(?<![\w'’-])[^\W\d_A-Z][^\W\d_]*")


def _few_lowercase_words(sentence: str) -> bool:
    """No lower-case word at all in a script that has case: a dateline, a byline
    or a run of names ("Daily Mail Reporter ."), not a sentence."""
    if not any(ch.isupper() for ch in sentence):
        return False  # no case here (or all lower-case): nothing to tell
    return _LOWER_WORD.search(sentence) is None


def needs_previous(sentence: str, english: bool = True) -> bool:
    """Does the sentence only make sense after the one before it?"""
    s = sentence.lstrip(_QUOTES + "‘' ")
    return english and bool(PRONOUN.match(s) or CONNECTIVE.match(s))


def short_names(sentences: Sequence[str], stops: frozenset[str] = frozenset()) -> list[str | None]:
    """The bare surname a sentence opens with ("Hassoun, who ..."), when an
    earlier sentence introduced it with a first name ("Heitham Hassoun")."""
    text = "\n".join(sentences)
    out: list[str | None] = []
    start = 0
    for i, s in enumerate(sentences):
        m = _LEADING_WORD.match(s)
        name = m.group(1) if i and m and m.group(1).lower() not in stops else None
        # (a name not written before at all cannot have been introduced)
        if name and not _introduced(name, text, start):
            name = None
        out.append(name)
        start += len(s) + 1
    return out


_INTRO = re.compile(r"[A-Z][\w'’-]+[ \t]+\Z")  # "Heitham " right before a surname
_WORD_CHAR = re.compile(r"\w")


def _introduced(name: str, text: str, end: int) -> bool:
    """Is ``name`` written in ``text[:end]`` after a capitalised word ("Heitham
    Hassoun"), as a whole word? (One compiled pattern for every name.)"""
    ends_word = bool(_WORD_CHAR.match(name[-1]))
    at = text.find(name, 0, end)
    while at >= 0:
        after = at + len(name)
        # \b after the name: a word ends there (or a non-word name is followed by one)
        whole = ends_word != (after < end and bool(_WORD_CHAR.match(text, after)))
        if whole and _INTRO.search(text, 0, at):
            return True
        at = text.find(name, at + 1, end)
    return False


def narration_share(sentences: Sequence[str]) -> float:
    """Share of sentences in the writer's own voice: a first-person pronoun outside
    any quotation and no reporting verb. About 0.05 for news, 0.25+ for a blog."""
    if not sentences:
        return 0.0
    count = 0
    open_quote = False
    for s in sentences:
        marks = s.count('"') + s.count("“") + s.count("”")
        single = "‘" in s or s[:1] == "'"  # British quotes: 'I was there,' she said.
        quoted = open_quote or marks or single
        if not quoted and FIRST_PERSON.search(s) and not REPORTING.search(s):
            count += 1
        if marks % 2:
            open_quote = not open_quote
    return count / len(sentences)


def build_document(article: Article, tokenizer: Tokenizer, cap: int) -> Any:
    """sumy's read-only document model of the article body (at most ``cap`` sentences)."""
    dom = sumy_dom()
    ObjectDocumentModel, Paragraph, Sentence = dom.ObjectDocumentModel, dom.Paragraph, dom.Sentence

    paragraphs = []
    count = 0
    for para in article.paragraphs:
        sentences = []
        for text in tokenizer.to_sentences(para):
            if count >= cap:
                break
            sentences.append(Sentence(text, tokenizer))
            count += 1
        if sentences:
            paragraphs.append(Paragraph(sentences))
        if count >= cap:
            break
    return ObjectDocumentModel(paragraphs)


def _vectors(rows: Any, ids: Any, n: int, extra: Sequence[int]) -> tuple[Any, Any]:
    """Unit tf-idf rows of ``n`` sentences, given as one entry per (sentence
    ``rows``, stem number ``ids``) occurrence, and the unit vector of
    ``extra`` (the headline's stem numbers) in the same space."""
    import numpy as np

    # The distinct stems in the order the article first uses them, and each
    # occurrence's column among them. (Not ordered by stem number: numbers
    # depend on what a process met before, and the sums must not.)
    vocab = np.fromiter(dict.fromkeys(ids.tolist()), dtype=np.intp)
    top = int(vocab.max()) + 1 if len(vocab) else 0
    column = np.full(top, -1, dtype=np.intp)
    column[vocab] = np.arange(len(vocab))
    cols = column[ids]
    v = max(len(vocab), 1)
    tf = np.bincount(rows * v + cols, minlength=n * v).reshape(n, v).astype(float)
    df = np.count_nonzero(tf, axis=0)
    idf = np.log((1 + n) / (1 + df)) + 1.0
    vec = np.log1p(tf) * idf
    norms = np.linalg.norm(vec, axis=1)
    norms[norms == 0] = 1.0
    vec /= norms[:, None]
    head = np.zeros(v)
    if extra and len(vocab):
        at = np.asarray(extra, dtype=np.intp)
        at = column[at[at < top]]
        at = at[at >= 0]  # headline stems the body does not use have no column
        np.add.at(head, at, idf[at])
    hn = np.linalg.norm(head)
    return vec, (head / hn if hn > 0 else head)


def auto(document: Any, count: int, article: Article) -> list[str]:
    """Position-aware centrality, a headline bonus, standalone checks, picked by MMR.

    - position: news puts its point first, so the first sentences that can stand
      alone score highest; in first-person writing (a blog post, a letter) the
      point often comes later and position counts for less;
    - centrality, directed as in PacSum (Zheng and Lapata, 2019): a sentence
      scores for resembling the sentences after it and loses for repeating
      the ones before it; in first-person writing, plain centrality;
    - closeness to the headline;
    - minus a penalty for greetings, fragments, questions, headings, open
      quotes, and for opening with a pronoun or a connective when the sentence
      before is not in the summary;
    - maximal marginal relevance, so no two picked sentences say the same thing.
    """
    import numpy as np

    sentences = [str(s) for s in document.sentences]
    n = len(sentences)
    if n <= count:
        return sentences
    lang = article.language
    english = lang == "en"
    tokens = [s.words for s in document.sentences]
    sizes = [len(t) for t in tokens]
    ids = np.array(word_ids([w for t in tokens for w in t], lang), dtype=np.intp)
    rows = np.repeat(np.arange(n), sizes)
    known = ids >= 0
    title = content_ids(words(article.title, lang), lang)
    vec, head = _vectors(rows[known], ids[known], n, title)
    sim = vec @ vec.T
    np.fill_diagonal(sim, 0.0)

    # PacSum's edges: similarities above a share of the range; forward minus backward.
    lo, hi = float(sim.min()), float(sim.max())
    edge = np.maximum(sim - (lo + 0.3 * (hi - lo)), 0.0)
    forward = np.triu(edge, 1).sum(axis=1)
    backward = np.tril(edge, -1).sum(axis=1)
    directed = forward - 0.5 * backward
    plain = edge.sum(axis=1)

    def unit(x: Any) -> Any:
        x = x - x.min()
        top = x.max()
        return x / top if top > 0 else x

    headline = vec @ head
    fixed = np.array(
        [standalone_penalty(s, k, english) for s, k in zip(sentences, sizes, strict=True)]
    )
    # Position counts from the first sentence that can stand alone (after a
    # greeting or a dateline fragment), in sentences that can.
    rank = np.cumsum(fixed < 0.5) - 1.0
    rank = np.maximum(rank, 0.0)
    essay = min(max((narration_share(sentences) - 0.1) / 0.2, 0.0), 1.0) if english else 0.0
    if english and GREETING.match(sentences[0]):
        essay = max(essay, 0.5)
    position = 1.0 / (1.0 + rank / (2.0 + 8.0 * essay))
    central = (1 - essay) * unit(directed) + essay * unit(plain)
    relevance = (
        (0.7 - 0.3 * essay) * position + (0.2 + 0.2 * essay) * central + 0.1 * headline - fixed
    )

    after = np.array([needs_previous(s, english) for s in sentences], dtype=bool)
    names = short_names(sentences, stop_words(lang)) if english else [None] * n
    named = [i for i, name in enumerate(names) if name]
    chosen: list[int] = []
    before_picked = np.zeros(n, dtype=bool)  # the sentence before this one is picked
    candidate = np.ones(n, dtype=bool)
    redundancy = np.zeros(n)  # similarity to the closest sentence picked so far
    lam = 0.75
    while len(chosen) < count and candidate.any():
        # a pronoun or connective without the sentence before it; a bare
        # surname whose full name is in no earlier picked sentence
        penalty = np.where(after & ~before_picked, 0.45, 0.0)
        for i in named:
            name = names[i]
            if name and not any(j < i and name in sentences[j] for j in chosen):
                penalty[i] += 0.3
        gain = lam * (relevance - penalty) - (1 - lam) * redundancy
        gain[~candidate] = -np.inf
        best = int(np.argmax(gain))  # the first of equal gains: the earliest sentence
        chosen.append(best)
        if best + 1 < n:
            before_picked[best + 1] = True
        redundancy = sim[:, best] if len(chosen) == 1 else np.maximum(redundancy, sim[:, best])
        # a sentence that repeats one already chosen is never taken
        candidate &= sim[:, best] < 0.8
        candidate[best] = False
    return [sentences[i] for i in sorted(chosen)]


def lead(document: Any, count: int, article: Article) -> list[str]:
    """The first ``count`` sentences (Lead-N), the news baseline."""
    return [str(s) for s in list(document.sentences)[:count]]


def _sumy(name: str) -> Summarizer:
    def run(document: Any, count: int, article: Article) -> list[str]:
        import importlib

        module, cls_name = SUMY_ALGORITHMS[name]
        cls = getattr(importlib.import_module(module), cls_name)
        summarizer = cls(stemmer(article.language))
        words = stop_words(article.language)
        summarizer.stop_words = words
        if name == "edmundson":
            title_words = tuple(
                w.lower() for w in Tokenizer(article.language).to_words(article.title)
            )
            summarizer.bonus_words = title_words or ("the",)
            summarizer.stigma_words = ("welcome", "thanks")
            summarizer.null_words = tuple(words) or ("the",)
        return [str(s) for s in summarizer(document, count)]

    return run


SUMMARIZERS: dict[str, Summarizer] = {"auto": auto, "lead": lead}
SUMMARIZERS.update({name: _sumy(name) for name in SUMY_ALGORITHMS})


def warm_up(name: str) -> None:
    """Import what summarizing needs; worker processes forked afterwards inherit it
    instead of each importing it again."""
    import numpy  # noqa: F401

    sumy_dom()

    if name in SUMY_ALGORITHMS:
        import importlib

        importlib.import_module(SUMY_ALGORITHMS[name][0])
    stop_words("en")
    stemmer("en")


def get_summarizer(name: str) -> Summarizer:
    try:
        return SUMMARIZERS[name]
    except KeyError:
        raise DigestError(
            f"unknown summarizer '{name}'",
            hint=f"choose one of: {', '.join(sorted(SUMMARIZERS))}",
        ) from None


def summarize(article: Article, name: str = "auto", count: int = 3, cap: int = 400) -> Article:
    """Return the article with ``summary`` set: up to ``count`` sentences, in article order."""
    summarizer = get_summarizer(name)
    tokenizer = Tokenizer(article.language)
    document = build_document(article, tokenizer, cap)
    picked = summarizer(document, count, article)
    seen: set[str] = set()
    summary: list[str] = []
    for s in picked:  # sumy returns document order; drop any repeat
        if s not in seen:
            seen.add(s)
            summary.append(s)
    return replace(article, summary=tuple(summary))
