"""The benchmark scripts read both reference layouts and print their tables."""

from __future__ import annotations

import importlib.util
import sys

import pytest


def _module(root, name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", root / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_glued_bbc_references_are_split_back_into_sentences(root):
    quality = _module(root, "quality")
    glued = (
        "Sales rose 2% to $11.1bn from $10.9bn.Its profits were buoyed by AOL.For 2005, it "
        'expects "higher revenue."The U.S. firm said "growth is back."'
    )
    assert quality.split_glued(glued) == [
        "Sales rose 2% to $11.1bn from $10.9bn.",
        "Its profits were buoyed by AOL.",
        'For 2005, it expects "higher revenue."',
        'The U.S. firm said "growth is back."',
    ]


@pytest.mark.parametrize("layout", ["flat", "bbc"])
def test_quality_table_on_both_layouts(root, tmp_path, capsys, layout):
    quality = _module(root, "quality")
    article = (
        "Storm closes airport\n\n"
        "A winter storm closed the city airport on Sunday, stranding 4,000 travellers. "
        "Snow ploughs worked through the night to clear the runways. "
        "The airport expects to reopen on Monday morning. "
        "Forecasters said more snow could fall later in the week.\n"
    )
    refs = ["A winter storm closed the city airport.", "It should reopen on Monday."]
    sub = "x/" if layout == "bbc" else ""
    (tmp_path / "articles" / sub).mkdir(parents=True)
    (tmp_path / "articles" / sub / "001.txt").write_text(article, encoding="utf-8")
    ref_dir = tmp_path / ("summaries" if layout == "bbc" else "references") / sub
    ref_dir.mkdir(parents=True)
    text = "".join(refs) if layout == "bbc" else "\n".join(refs)
    (ref_dir / "001.txt").write_text(text, encoding="utf-8")
    assert quality.main([str(tmp_path), "--summarizers", "auto,lead", "--sentences", "2"]) == 0
    out = capsys.readouterr().out
    assert "1 articles, 2 sentences" in out
    table, differences = out.split("auto minus each")
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:]}
    assert set(rows) == {"auto", "lead"}
    assert 0 < float(rows["lead"][0]) <= 100
    # auto minus lead, with an interval that holds the difference
    lead = differences.splitlines()[2].split()
    assert lead[0] == "lead"
    r1 = float(lead[1])
    assert abs(r1 - (float(rows["auto"][0]) - float(rows["lead"][0]))) < 0.02


def test_xsum_rows_become_the_flat_layout_quality_reads(root, tmp_path, capsys):
    import json
    import zipfile

    xsum = _module(root, "xsum")
    quality = _module(root, "quality")
    rows = [
        {
            "id": "101",
            "document": "A storm closed the airport.\nSnow ploughs  worked all night.",
            "summary": "An airport\nclosed.",
        },
        {"id": "101", "document": "A repeat of the first id.", "summary": "Dropped."},
        {"id": "../x", "document": "An id that is no file name.", "summary": "Dropped."},
        {"id": "102", "document": "", "summary": "No article: dropped."},
        {"id": "103", "document": "The council met. It voted.", "summary": "A vote."},
    ]
    wheel = tmp_path / "sample.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(xsum.MEMBER, "\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "flat"
    assert xsum.convert(wheel, out) == 2
    assert (out / "articles" / "101.txt").read_text() == (
        "A storm closed the airport.\n\nSnow ploughs worked all night.\n"
    )
    assert (out / "references" / "101.txt").read_text() == "An airport closed.\n"
    assert sorted(p.name for p in (out / "articles").iterdir()) == ["101.txt", "103.txt"]
    assert quality.main([str(out), "--summarizers", "lead", "--sentences", "1"]) == 0
    assert "2 articles, 1 sentences" in capsys.readouterr().out


def test_speed_corpus_has_distinct_articles(root, tmp_path):
    speed = _module(root, "speed")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"{i}.txt").write_text(f"Title {i}\n\nPara one {i}.\n\nPara two {i}.\n")
    speed.make_corpus(src, 7, tmp_path / "out")
    texts = [p.read_text() for p in sorted((tmp_path / "out").glob("*.txt"))]
    assert len(texts) == 7 and len(set(texts)) == 7


def test_theme_bounds_vote_among_neighbours_and_misses_are_listed(root, capsys):
    import numpy as np

    from tests.helpers import article

    themes = _module(root, "themes")
    # two tight groups and one article of "a" that sits inside group "b"
    rows = np.array([[1, 0.1], [1, -0.1], [1, 0], [0.1, 1], [-0.1, 1], [0, 1], [0.05, 1]])
    rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    gold = ["a", "a", "a", "b", "b", "b", "a"]
    found = themes.bounds(rows, gold, knn=3)
    assert set(found) == {"nearest centroid", "ridge classifier", "3-nearest vote"}
    assert found["3-nearest vote"] == ["a", "a", "a", "b", "b", "b", "b"]
    assert found["nearest centroid"][6] == "b"

    arts = [article(f"Story {i}", source=f"data/{g}/{i:03}.txt") for i, g in enumerate(gold)]
    tally = {}
    themes._count(tally, "(b) all", arts, ["a", "a", "a", "b", "b", "b", "b"])
    themes._count(tally, "(b) batches", arts, ["a", "b", "a", "b", "b", "b", "b"])
    themes.misses(arts, tally, found)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(("a/", "b/"))]
    assert [line.split()[0] for line in lines] == ["a/001.txt", "a/006.txt"]
    assert lines[1].split()[1:5] == ["a", "1/1", "1/1", "b"]  # both settings wrong, taken for b
    assert "1 of them are missed by every bound" in out
    # the one article every bound misses was scored once in the one (b) run of 7
    assert f"would reach {1 - 1 / 7:.3f}" in out


def test_extraction_reads_mercury_assertions_and_scores_a_page(root, tmp_path):
    import io
    import tarfile

    extraction = _module(root, "extraction")
    test_js = """
    describe('x', () => {
      beforeAll(() => {
        url =
          'https://example.org/2016/a' + "-story";
        const html = fs.readFileSync('./fixtures/example.org/1.html');
      });
      it('t', async () => { assert.equal(title, `Storm \\u2018closes\\u2019 airport`); });
      it('a', async () => { assert.equal(author, 'Jane Doe and John Roe'); });
      it('d', async () => { assert.equal(date_published, '2016-11-29T02:26:06.000Z'); });
      it('c', async () => {
        assert.equal(
          first13,
          'Photo: Staff A winter storm closed the city airport on Sunday, stranding travellers'
        );
      });
    });
    """
    page = (
        "<html><head><title>Storm ‘closes’ airport - Example News</title></head><body>"
        "<article><h1>Storm ‘closes’ airport</h1><p>By Jane Doe and John Roe</p>"
        "<p>A winter storm closed the city airport on Sunday, stranding travellers for a "
        "night. Snow ploughs worked through the night to clear the two runways.</p>"
        "<p>The airport expects to reopen on Monday morning, its director said, once "
        "the last of the snow has been cleared away from the taxiways and aprons.</p>"
        "</article></body></html>"
    )
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (
            ("package/src/extractors/custom/example.org/index.test.js", test_js.encode()),
            ("package/fixtures/example.org/1.html", page.encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "m.tgz"
    path.write_bytes(buf.getvalue())
    (p,) = extraction.mercury_pages(extraction.members(path))
    assert p.extra["url"] == "https://example.org/2016/a-story"
    assert p.title == "Storm ‘closes’ airport"
    assert p.author == "Jane Doe and John Roe"
    assert p.published.isoformat() == "2016-11-29T02:26:06+00:00"
    outcome = extraction.read(p, tmp_path)
    assert not outcome.error
    # the expected opening starts with a photo credit that cleaning drops
    assert extraction.opening_at(outcome.body, p.opening) == 0
    assert extraction.names("By Jane Doe - Apr 16, 2015") == {"jane doe"}
    assert extraction.names(p.author) == {"jane doe", "john roe"}
    scraped = extraction.read(p, tmp_path, as_text=True)  # the page as plain text
    assert "winter storm closed the city airport" in scraped.body
    table = extraction.report([outcome], show_misses=False)
    assert "mercury" in table and "1/1" in table
