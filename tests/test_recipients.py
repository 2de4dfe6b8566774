from __future__ import annotations

import pytest

from digest.errors import DigestError
from digest.recipients import dedupe, from_args, normalize_address, parse_recipient, read_csv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ann@example.org", "ann@example.org"),
        ("Ann.B+news@Example.ORG", "Ann.B+news@example.org"),
        ("  bob@example.org ", "bob@example.org"),
        ("x@bücher.example", "x@xn--bcher-kva.example"),
        ("no-at-sign.example.org", None),
        ("two@@example.org", None),
        ("a@b@example.org", None),
        ("a b@example.org", None),
        ("a@localhost", None),
        ("a@-bad.example.org", None),
        ("a@1.2.3.4", None),
        (".a@example.org", None),
        ("a..b@example.org", None),
        ("a@example.org\r\nBcc: c@example.org", None),
        ("ünï@example.org", None),
        ("a,b@example.org", None),
        ("", None),
    ],
)
def test_normalize_address(value, expected):
    assert normalize_address(value) == expected


def test_name_and_angle_brackets():
    r = parse_recipient('"Ann Reader" <ann@example.org>', "--to")
    assert (r.email, r.name) == ("ann@example.org", "Ann Reader")


def test_control_characters_are_an_error_naming_the_source():
    with pytest.raises(DigestError) as err:
        from_args(["ok@example.org", "x@example.org\nBcc: y@example.org"])
    assert err.value.message.startswith("--to: control characters")


def test_csv_with_extra_columns_and_a_bom(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("\ufeffEmail,Name,token\nann@example.org,Ann,t1\n\n,,\nbob@example.org,,t2\n")
    rs = read_csv(str(f))
    assert [(r.email, r.name, r.field("token")) for r in rs] == [
        ("ann@example.org", "Ann", "t1"),
        ("bob@example.org", "", "t2"),
    ]


def test_csv_names_become_one_line(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text('email,name\neve@example.org,"Eve\r\nBcc: v@example.org"\n')
    (r,) = read_csv(str(f))
    assert r.name == "Eve Bcc: v@example.org"


def test_every_bad_row_is_reported_and_nothing_is_returned(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("email\nok@example.org\nnope\nalso bad@example.org\n")
    with pytest.raises(DigestError) as err:
        read_csv(str(f))
    assert "line 3: not an email address: 'nope'" in err.value.message
    assert "line 4: not an email address" in err.value.message
    assert "nothing was sent" in (err.value.hint or "")


def test_csv_without_an_email_column(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("address,name\na@example.org,A\n")
    with pytest.raises(DigestError) as err:
        read_csv(str(f))
    assert "no 'email' column" in err.value.message


def test_csv_not_utf8_or_missing(tmp_path):
    f = tmp_path / "r.csv"
    f.write_bytes(b"email,name\na@example.org,J\xfcrgen\n")
    with pytest.raises(DigestError) as err:
        read_csv(str(f))
    assert "not UTF-8" in err.value.message
    with pytest.raises(DigestError) as err:
        read_csv(str(tmp_path / "missing.csv"))
    assert "cannot read the recipients" in err.value.message


def test_duplicates_are_sent_once_case_blind():
    rs, dropped = dedupe(from_args(["a@example.org", "A@EXAMPLE.org", "b@example.org"]))
    assert [r.email for r in rs] == ["a@example.org", "b@example.org"]
    assert dropped == 1
