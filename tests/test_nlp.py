from __future__ import annotations

from digest.nlp import Tokenizer, detect_language, split_sentences, stemmer


def test_sentences_keep_abbreviations_together():
    text = (
        "Experts advocated for strengthened Sino-U.S. medical collaboration. "
        "Dr. Zhu Chen spoke at 5 p.m. on Monday. It was in the U.S. Army base."
    )
    assert split_sentences(text) == (
        "Experts advocated for strengthened Sino-U.S. medical collaboration.",
        "Dr. Zhu Chen spoke at 5 p.m. on Monday.",
        "It was in the U.S. Army base.",
    )


def test_tokenizer_has_sumys_interface_and_needs_no_nltk_data():
    tok = Tokenizer("en")
    assert tok.language == "english"
    assert tok.to_words("It's a well-known fact.") == ("It's", "a", "well", "known", "fact")
    assert tok.to_sentences("One here. Two here.") == ("One here.", "Two here.")


def test_summarizing_never_touches_nltk_data(monkeypatch):
    import nltk.data

    def refuse(*args, **kwargs):
        raise AssertionError("nltk data was requested")

    monkeypatch.setattr(nltk.data, "load", refuse)
    monkeypatch.setattr(nltk.data, "find", refuse)
    from digest.summarize import summarize
    from tests.helpers import article

    body = " ".join(f"Sentence number {i} talks about hospitals and care." for i in range(8))
    for name in ("auto", "lexrank", "lsa", "luhn", "textrank", "edmundson", "kl", "sumbasic"):
        assert len(summarize(article(body=body), name, 2).summary) == 2


def test_stemmer_is_cached_and_language_specific():
    assert stemmer("en")("collaborations") == stemmer("en")("collaboration")
    assert stemmer("fr")("médecins") == stemmer("fr")("médecin")


def test_detect_language():
    assert (
        detect_language("The hospital opened a new wing for patients and their families.") == "en"
    )
    assert (
        detect_language("Les médecins de l'hôpital ont ouvert une nouvelle aile pour les patients.")
        == "fr"
    )
    assert detect_language("Die Ärzte des Krankenhauses haben einen neuen Flügel eröffnet.") == "de"
    assert detect_language("医院今天开设了新的病房。医生们非常高兴。") == "zh"
