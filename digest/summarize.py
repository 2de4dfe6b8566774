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
from .nlp import Tokenizer, stemmer, stop_words

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

# Sentences that cannot open a summary or stand alone in one.
GREETING = re.compile(
    r"^(welcome|hello|hi|dear|greetings|thanks|thank you|sincere thanks|many thanks|"
    r"more to come|stay tuned|see you|until next time|happy reading)\b",
    re.I,
)
DANGLING = re.compile(
    r"^(he|she|it|they|them|this|that|these|those|his|her|its|their|there|here|"
    r"also|but|and|or|so|however|moreover|furthermore|meanwhile|then|still|yet|"
    r"for example|for instance|in addition|as a result|instead)\b",
    re.I,
)


def standalone_penalty(sentence: str, n_words: int) -> float:
    """0 for a sentence that reads alone; up to 1 for one that cannot."""
    s = sentence.strip()
    if GREETING.match(s):
        return 1.0
    p = 0.0
    if n_words < 6:
        p += 0.6
    if s.endswith("?"):
        p += 0.3
    if DANGLING.match(s.lstrip("\"“'‘")):
        p += 0.35
    if s[:1] in '"“' and s.count('"') + s.count("“") + s.count("”") < 2:
        p += 0.3
    if s.endswith(":"):
        p += 0.5
    return min(p, 1.0)


def build_document(article: Article, tokenizer: Tokenizer, cap: int) -> Any:
    """sumy's read-only document model of the article body (at most ``cap`` sentences)."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

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


def auto(document: Any, count: int, article: Article) -> list[str]:
    """Position + centrality + headline, filtered for standalone sentences, chosen by MMR."""
    import numpy as np

    sentences = [str(s) for s in document.sentences]
    if len(sentences) <= count:
        return sentences
    lang = article.language
    stem = stemmer(lang)
    stops = stop_words(lang)
    tok = Tokenizer(lang)
    bags: list[list[str]] = [
        [stem(w) for w in tok.to_words(s) if w.lower() not in stops] for s in sentences
    ]
    vocab: dict[str, int] = {}
    for bag in bags:
        for w in bag:
            vocab.setdefault(w, len(vocab))
    n = len(sentences)
    tf = np.zeros((n, max(len(vocab), 1)))
    for i, bag in enumerate(bags):
        for w in bag:
            tf[i, vocab[w]] += 1.0
    df = (tf > 0).sum(axis=0)
    idf = np.log((1 + n) / (1 + df)) + 1.0
    vec = np.log1p(tf) * idf
    norms = np.linalg.norm(vec, axis=1)
    norms[norms == 0] = 1.0
    vec = vec / norms[:, None]
    sim = vec @ vec.T
    np.fill_diagonal(sim, 0.0)
    centrality = sim.sum(axis=1)
    if centrality.max() > 0:
        centrality = centrality / centrality.max()

    title_bag = [stem(w) for w in tok.to_words(article.title) if w.lower() not in stops]
    tvec = np.zeros(tf.shape[1])
    for w in title_bag:
        if w in vocab:
            tvec[vocab[w]] += idf[vocab[w]]
    tn = np.linalg.norm(tvec)
    title_sim = vec @ (tvec / tn) if tn > 0 else np.zeros(n)

    position = 1.0 / np.sqrt(1.0 + np.arange(n))
    penalty = np.array(
        [standalone_penalty(s, len(b)) for s, b in zip(sentences, bags, strict=True)]
    )
    relevance = 0.45 * centrality + 0.35 * position + 0.2 * title_sim - 0.8 * penalty

    chosen: list[int] = []
    candidates = list(range(n))
    lam = 0.7
    while len(chosen) < count and candidates:
        best = max(
            candidates,
            key=lambda i: (
                lam * relevance[i]
                - (1 - lam) * (max(sim[i, j] for j in chosen) if chosen else 0.0),
                -i,
            ),
        )
        chosen.append(best)
        candidates.remove(best)
        # a sentence that repeats one already chosen is never taken
        candidates = [i for i in candidates if sim[i, best] < 0.8]
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
