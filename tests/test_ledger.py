from __future__ import annotations

import pytest

from digest.errors import DigestError
from digest.ledger import LEDGER_NAME, open_ledger


def test_states_survive_reopening(tmp_path):
    with open_ledger(tmp_path) as ledger:
        ledger.register("issue1", "Subject", ["a@example.org", "b@example.org"])
        ledger.mark("issue1", "a@example.org", "sending", message_id="<m1@example.org>")
        ledger.mark("issue1", "a@example.org", "sent", "250 ok")
        ledger.mark("issue1", "b@example.org", "refused", "550 no")
    with open_ledger(tmp_path) as ledger:
        ledger.register("issue1", "Subject", ["a@example.org", "c@example.org"])
        entries = ledger.entries("issue1")
    assert {e.email: e.state for e in entries.values()} == {
        "a@example.org": "sent",
        "b@example.org": "refused",
        "c@example.org": "pending",
    }
    a = entries["a@example.org"]
    assert (a.reply, a.message_id, a.attempts) == ("250 ok", "<m1@example.org>", 1)


def test_issues_are_separate_and_same_subject_rebuilds_are_counted(tmp_path):
    with open_ledger(tmp_path) as ledger:
        ledger.register("one", "May", ["a@example.org"])
        ledger.mark("one", "a@example.org", "sent")
        ledger.register("two", "May", ["a@example.org"])
        assert ledger.entries("two")["a@example.org"].state == "pending"
        assert ledger.other_issues("two", "May") == 1
        assert ledger.other_issues("two", "June") == 0


def test_readonly_never_writes(tmp_path):
    with open_ledger(tmp_path, readonly=True) as ledger:
        ledger.register("one", "May", ["a@example.org"])
        ledger.mark("one", "a@example.org", "sent")
        assert ledger.entries("one") == {}
    assert not (tmp_path / LEDGER_NAME).exists()


def test_a_second_sender_on_the_same_folder_is_refused(tmp_path):
    with open_ledger(tmp_path), pytest.raises(DigestError) as err, open_ledger(tmp_path):
        pass
    assert "another 'digest send' is working on this digest" in err.value.message
    with open_ledger(tmp_path):  # released
        pass


def test_a_file_that_is_not_a_ledger_is_an_error(tmp_path):
    (tmp_path / LEDGER_NAME).write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(DigestError) as err, open_ledger(tmp_path):
        pass
    assert "cannot open the send ledger" in err.value.message
