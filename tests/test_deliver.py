from __future__ import annotations

import pytest

from digest.deliver import write_files
from digest.errors import DigestError
from digest.model import Rendered


def test_writes_every_file_and_leaves_no_temporary_files(tmp_path):
    out = tmp_path / "out"
    write_files(str(out), Rendered(files=(("a.txt", b"A"), ("b.txt", b"B"))))
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]
    assert (out / "a.txt").read_bytes() == b"A"


def test_output_path_that_is_a_file_is_an_error(tmp_path):
    f = tmp_path / "out"
    f.write_text("x")
    with pytest.raises(DigestError) as err:
        write_files(str(f), Rendered(files=(("a.txt", b"A"),)))
    assert "is a file" in err.value.message
