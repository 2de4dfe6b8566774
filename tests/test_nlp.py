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


def test_each_language_gets_its_own_stemmer_and_stop_words():
    from digest.nlp import stemmer_name, stop_words

    assert stemmer_name("de") == "german"
    assert stemmer_name("es") == "spanish"
    assert stemmer_name("ru") == "russian"  # Snowball has it, sumy has no stop words
    assert stemmer_name("xx") is None
    assert stemmer("de")("Krankenhäuser") == stemmer("de")("Krankenhaus")
    assert stemmer("es")("hospitales") == stemmer("es")("hospital")
    assert stemmer("xx")("Word") == "word"
    assert "und" in stop_words("de") and "und" not in stop_words("en")
    assert "the" in stop_words("en") and stop_words("xx") == frozenset()


def test_a_detected_language_picks_the_stemmer():
    from digest.clean import clean
    from digest.model import Document

    text = (
        "El hospital abre un centro de investigación\n\n"
        "El hospital de la ciudad abrió el lunes un centro de investigación del cáncer. "
        "Los médicos de cinco países asistieron a la inauguración del centro."
    )
    a = clean(Document(source="es.txt", text=text, kind="text"))
    assert a.language == "es"
    assert stemmer(a.language)("médicos") == stemmer(a.language)("médico")


def test_stop_words_do_not_import_requests():
    import subprocess
    import sys

    code = (
        "import sys\nfrom digest.nlp import stop_words\n"
        "assert 'the' in stop_words('en')\nprint('requests' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_sumy_document_model_loads_without_requests_until_it_is_used():
    """Summarizing does not pay for sumy's ``requests`` import (0.1 s at every
    build's start); anything that does use requests still gets the real one."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom digest.nlp import sumy_dom\n"
        "dom = sumy_dom()\nassert dom.ObjectDocumentModel\n"
        "print('urllib3' in sys.modules)\n"
        "import requests, requests.adapters\n"
        "print(requests.codes.ok, requests.adapters.HTTPAdapter.__name__)\n"
        "print(type(sys.modules['requests']).__name__, 'urllib3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "200", "HTTPAdapter", "module", "True"]


def test_content_stems_drop_stop_words_and_stem_the_rest():
    from digest.nlp import content_stems

    assert content_stems(("The", "Hospitals", "and", "their", "doctors"), "en") == [
        "hospit",
        "doctor",
    ]
    assert content_stems(("Die", "Krankenhäuser", "und", "Ärzte"), "de") == [
        stemmer("de")("krankenhäuser"),
        stemmer("de")("ärzte"),
    ]


def test_ascii_text_is_split_into_the_same_words_by_the_fast_pattern():
    """ASCII text takes a faster pattern; it must find exactly the words the
    general one finds (underscores, apostrophes, dots and hyphens included)."""
    import random

    from digest import clean, nlp

    rng = random.Random(3)
    alphabet = "aZ9_'.- \n,;!?\"()xQ7"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert text.isascii()
        assert nlp.words(text) == tuple(nlp._WORD.findall(text))
        clean.words.cache_clear()
        assert clean.words(text) == tuple(clean.WORD.findall(text))
