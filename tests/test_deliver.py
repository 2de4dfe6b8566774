from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import cli
from digest.config import Config, NewsletterConfig
from digest.deliver import Outbox, esp_payload, parse_rate, write_files
from digest.errors import DigestError
from digest.ledger import LEDGER_NAME, Ledger
from digest.model import Rendered
from digest.pipeline import build_to
from digest.recipients import Recipient
from tests.conftest import SEEDS
from tests.smtp_server import Mailbox, free_port, self_signed, smtp_server


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


def test_write_archive_puts_the_issue_in_its_month_folder(tmp_path):
    from digest.deliver import write_archive

    issue = Rendered(files=(("digest.html", b"<p>issue</p>"),))
    site = Rendered(files=(("index.html", b"<p>index</p>"), ("feed.xml", b"<feed/>")))
    write_archive(str(tmp_path), "2024-11", issue, site)
    assert (tmp_path / "2024-11" / "digest.html").read_bytes() == b"<p>issue</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024-11", "feed.xml", "index.html"]


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_replaces_the_folder_as_a_whole_and_keeps_files_it_does_not_produce(
    tmp_path, monkeypatch, exchange
):
    import digest.deliver as deliver

    if not exchange:
        monkeypatch.setattr(deliver, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    (out / "2024-10").mkdir(parents=True)
    (out / "2024-10" / "digest.html").write_bytes(b"archive")
    (out / "index.html").write_bytes(b"index")
    (out / "a.txt").write_bytes(b"old A")
    old_inode = (out / "2024-10" / "digest.html").stat().st_ino
    write_files(str(out), Rendered(files=(("a.txt", b"new A"), ("b.txt", b"B"))))
    assert _files(out) == {
        "2024-10/digest.html": b"archive",
        "index.html": b"index",
        "a.txt": b"new A",
        "b.txt": b"B",
    }
    assert (out / "2024-10" / "digest.html").stat().st_ino == old_inode  # linked, not copied
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert out.stat().st_mode & 0o777 != 0o700


def test_a_failure_before_the_swap_leaves_the_old_folder(tmp_path, monkeypatch):
    import digest.deliver as deliver

    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_bytes(b"old A")

    def broken(a, b):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(deliver, "_swap", broken)
    with pytest.raises(DigestError) as err:
        write_files(str(out), Rendered(files=(("a.txt", b"new A"),)))
    assert "cannot write the digest: Input/output error; the previous digest was kept" in (
        err.value.message
    )
    assert _files(out) == {"a.txt": b"old A"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_staging_folders_of_a_killed_build_are_removed_later(tmp_path):
    out = tmp_path / "out"
    stale = tmp_path / ".digest-staging-out-abc"
    fresh = tmp_path / ".digest-staging-out-def"  # perhaps a build running right now
    other = tmp_path / ".digest-staging-web-abc"  # another output folder's
    for folder in (stale, fresh, other):
        (folder / "sub").mkdir(parents=True)
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    write_files(str(out), Rendered(files=(("a.txt", b"A"),)))
    assert not stale.exists() and fresh.is_dir() and other.is_dir()


def test_an_output_link_to_a_folder_stays_a_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "out").symlink_to(real)
    write_files(str(tmp_path / "out"), Rendered(files=(("a.txt", b"A"),)))
    assert (tmp_path / "out").is_symlink()
    assert (real / "a.txt").read_bytes() == b"A"


def test_file_names_cannot_leave_the_folder(tmp_path):
    with pytest.raises(DigestError):
        write_files(str(tmp_path / "out"), Rendered(files=(("../evil.txt", b"x"),)))
    assert not (tmp_path / "evil.txt").exists()


# --- digest send: a real SMTP server on 127.0.0.1 (tests/smtp_server.py) -------------------


UNSUB = "https://news.example.org/unsubscribe?email={email}&t={token}"


@pytest.fixture(scope="module")
def built_once(tmp_path_factory):
    """The seeds built twice: plain, and with a personalisable unsubscribe URL."""
    base = tmp_path_factory.mktemp("built")
    build_to(Config(), str(base / "plain"), [str(SEEDS)])
    cfg = Config(newsletter=NewsletterConfig(unsubscribe_url=UNSUB))
    build_to(cfg, str(base / "unsub"), [str(SEEDS)])
    return base


@pytest.fixture
def out(built_once, tmp_path):
    """A fresh copy of the built digest in tmp_path/out."""
    dest = tmp_path / "out"
    shutil.copytree(built_once / "plain", dest)
    return dest


def write_config(tmp_path: Path, port: int, **smtp: object) -> Path:
    values = {"host": "127.0.0.1", "port": port, "security": "none", "backoff": 0.01}
    values.update(smtp)
    lines = ["[smtp]"]
    for k, v in values.items():
        lines.append(f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {v}")
    path = tmp_path / "digest.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def send(config: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, ["send", "-c", str(config), *args], env=env)


def parts(msg):
    """(type, text) of each part, line ends as in the files the build wrote."""
    return [
        (p.get_content_type(), p.get_content().replace("\r\n", "\n").rstrip("\n"))
        for p in msg.iter_parts()
    ]


def body(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[1]


def addresses(n: int) -> list[str]:
    return [f"reader{i:02d}@example.org" for i in range(1, n + 1)]


def test_each_recipient_gets_one_copy_of_the_built_digest(out, tmp_path):
    built = message_from_bytes((out / "digest.eml").read_bytes(), policy=email_policy.default)
    text = (out / "digest.txt").read_text(encoding="utf-8").rstrip("\n")
    html = (out / "digest.html").read_text(encoding="utf-8").rstrip("\n")
    to = ["Ann Reader <ann@example.org>", "bob@Example.ORG", "carol@example.net"]
    with smtp_server() as (box, port):
        before = box.connections
        result = send(write_config(tmp_path, port), str(out), *(a for t in to for a in ("--to", t)))
        connections = box.connections - before
    assert result.exit_code == 0, result.output
    assert "to 3 recipients" in result.output
    assert [r.rcpt_tos for r in box.received] == [
        ["ann@example.org"],
        ["bob@example.org"],
        ["carol@example.net"],
    ]
    assert connections == 1  # one connection carried all three
    ids = set()
    for rec, header_to in zip(
        box.received,
        ["Ann Reader <ann@example.org>", "bob@example.org", "carol@example.net"],
        strict=True,
    ):
        msg = rec.message
        assert msg.get_content_type() == "multipart/alternative"
        assert parts(msg) == [("text/plain", text), ("text/html", html)]
        assert body(rec.data) == body((out / "digest.eml").read_bytes())
        assert msg["To"] == header_to
        assert msg["From"] == built["From"] and msg["Subject"] == built["Subject"]
        assert msg["Message-ID"] != built["Message-ID"] and msg["Message-ID"].endswith(
            "@example.org>"
        )
        assert msg["Date"] != built["Date"]
        assert rec.mail_from == "digest@example.org"
        ids.add(msg["Message-ID"])
    assert len(ids) == 3


def test_server_drop_and_550_then_one_rerun_delivers_each_good_recipient_once(out, tmp_path):
    """The fault test: the server drops the connection after 7 of 20 messages (and
    keeps dropping for the rest of the first run) and refuses one recipient."""
    to = addresses(20)
    refused = to[12]
    csv_file = tmp_path / "readers.csv"
    csv_file.write_text("email,name\n" + "".join(f"{a},Reader {a[6:8]}\n" for a in to))
    box = Mailbox(refuse={refused: f"550 5.1.1 <{refused}>: no such user"}, drop_after=7)
    with smtp_server(box) as (box, port):
        config = write_config(tmp_path, port, retries=2)
        first = send(config, str(out), "--recipients", str(csv_file))
        assert first.exit_code == 1, first.output
        assert (
            "Sent 'International Health Digest #1 – November 2024' to 7 recipients." in first.output
        )
        assert "Not sent yet (a re-run sends them): 13" in first.output
        assert len(box.received) == 7

        box.drop_after = None  # the server is back
        second = send(config, str(out), "--recipients", str(csv_file))
    assert second.exit_code == 1, second.output  # the refused one was not delivered
    assert "to 12 recipients" in second.output
    assert "Already sent before (not sent again): 7" in second.output
    assert f"{refused}: 550 5.1.1 <{refused}>: no such user" in second.output
    for address in to:
        assert box.copies(address) == (0 if address == refused else 1), address
    assert len(box.received) == 19

    third = send(config, str(out), "--recipients", str(csv_file))  # server gone: nothing to send
    assert third.exit_code == 1
    assert "Already sent before (not sent again): 19" in third.output
    assert "Refused in an earlier run (not retried): 1" in third.output


def test_a_dropped_connection_is_retried_on_a_new_connection(out, tmp_path):
    to = addresses(10)
    box = Mailbox(drop_after=4, drop_once=True)
    with smtp_server(box) as (box, port):
        before = box.connections
        result = send(write_config(tmp_path, port), str(out), *(x for a in to for x in ("--to", a)))
        connections = box.connections - before
    assert result.exit_code == 0, result.output
    assert [box.copies(a) for a in to] == [1] * 10
    assert connections == 2


def test_a_4xx_for_one_recipient_is_retried_later_and_the_others_go_on(out, tmp_path):
    to = addresses(3)
    box = Mailbox(defer={to[0]: 2})
    with smtp_server(box) as (box, port):
        result = send(write_config(tmp_path, port), str(out), *(x for a in to for x in ("--to", a)))
    assert result.exit_code == 0, result.output
    assert [r.rcpt_tos[0] for r in box.received] == [to[1], to[2], to[0]]


def test_a_4xx_that_never_ends_is_reported_as_failed(out, tmp_path):
    box = Mailbox(defer={"slow@example.org": 99})
    with smtp_server(box) as (box, port):
        config = write_config(tmp_path, port, retries=1)
        result = send(config, str(out), "--to", "slow@example.org", "--to", "ok@example.org")
    assert result.exit_code == 1
    assert "Failed for now (a re-run tries them again): 1" in result.output
    assert "slow@example.org: 451 4.3.0 try again later" in result.output
    assert box.copies("ok@example.org") == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_finishes_the_message_in_flight_then_a_rerun_sends_the_rest(out, tmp_path, sig):
    to = addresses(8)
    box = Mailbox()

    def interrupt_at_third(envelope):
        if len(box.received) == 2:
            os.kill(os.getpid(), sig)
            time.sleep(0.2)  # the signal arrives while the client waits for our reply

    box.on_data = interrupt_at_third
    with smtp_server(box) as (box, port):
        config = write_config(tmp_path, port)
        args = [x for a in to for x in ("--to", a)]
        first = send(config, str(out), *args)
        assert first.exit_code == 130, first.output
        assert "Interrupted" in first.output
        assert len(box.received) == 3  # the copy in flight was finished and recorded
        box.on_data = None
        second = send(config, str(out), *args)
    assert second.exit_code == 0, second.output
    assert "Already sent before (not sent again): 3" in second.output
    assert [box.copies(a) for a in to] == [1] * 8


def test_a_killed_run_is_not_sent_twice_and_is_reported_uncertain(out, tmp_path, root):
    """SIGKILL while the server holds the third message: the ledger says 'sending'.
    By default (at-most-once) the re-run does not send it again but reports it;
    --resend-uncertain sends it again (at-least-once)."""
    to = addresses(5)
    box = Mailbox()
    arrived, release = threading.Event(), threading.Event()

    def hold_third(envelope):
        if len(box.received) == 2:
            arrived.set()
            release.wait(10)

    box.on_data = hold_third
    with smtp_server(box) as (box, port):
        config = write_config(tmp_path, port)
        args = [x for a in to for x in ("--to", a)]
        env = {**os.environ, "PYTHONPATH": str(root)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "digest", "send", "-c", str(config), str(out), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert arrived.wait(30)
            proc.kill()
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
            release.set()
        time.sleep(0.1)  # the server stores the held copy: it was delivered
        box.on_data = None
        second = send(config, str(out), *args)
        assert second.exit_code == 1, second.output
        assert "Uncertain (--resend-uncertain sends them again): 1" in second.output
        assert f"{to[2]}: an earlier run stopped while sending" in second.output
        assert [box.copies(a) for a in to] == [1, 1, 1, 1, 1]

        third = send(config, str(out), *args, "--resend-uncertain")
    assert third.exit_code == 0, third.output
    assert "to 1 recipient." in third.output
    copies = [r.message["Message-ID"] for r in box.received if to[2] in r.rcpt_tos]
    assert len(copies) == 2 and copies[0] == copies[1]  # same Message-ID: clients can fold them


def test_the_rate_limit_holds(out, tmp_path):
    to = addresses(6)
    box = Mailbox()
    times: list[float] = []
    box.on_data = lambda envelope: times.append(time.monotonic())
    with smtp_server(box) as (box, port):
        config = write_config(tmp_path, port)
        result = send(config, str(out), "--rate", "20/s", *(x for a in to for x in ("--to", a)))
    assert result.exit_code == 0, result.output
    assert times[-1] - times[0] >= 5 / 20 * 0.9
    assert parse_rate("600/min") == 10.0 and parse_rate("") is None


def test_a_bad_rate_is_an_error(out, tmp_path):
    result = send(write_config(tmp_path, 25), str(out), "--to", "a@example.org", "--rate", "fast")
    assert result.exit_code == 1
    assert "not a rate: 'fast'" in result.output


def test_starttls_with_a_self_signed_certificate_needs_the_ca_file(out, tmp_path):
    tls = self_signed(tmp_path)
    with smtp_server(tls=tls.server) as (box, port):
        config = write_config(tmp_path, port, security="starttls")
        refused = send(config, str(out), "--to", "a@example.org")
        assert refused.exit_code == 1
        assert (
            f"error: 127.0.0.1:{port}: the server's TLS certificate is not trusted"
            in refused.output
        )
        assert "hint: pass --ca-file" in refused.output
        assert "Traceback" not in refused.output
        assert box.received == []
        ok = send(config, str(out), "--to", "a@example.org", "--ca-file", str(tls.ca_file))
    assert ok.exit_code == 0, ok.output
    assert box.copies("a@example.org") == 1


def test_implicit_tls(out, tmp_path):
    tls = self_signed(tmp_path)
    with smtp_server(tls=tls.server, implicit_tls=True) as (box, port):
        config = write_config(tmp_path, port, security="ssl", ca_file=str(tls.ca_file))
        result = send(config, str(out), "--to", "a@example.org")
    assert result.exit_code == 0, result.output
    assert box.copies("a@example.org") == 1


def test_starttls_required_but_not_offered_is_an_error(out, tmp_path):
    with smtp_server() as (_box, port):
        result = send(
            write_config(tmp_path, port, security="starttls"), str(out), "--to", "a@example.org"
        )
    assert result.exit_code == 1
    assert "does not offer STARTTLS" in result.output


def test_auth_password_from_the_environment_appears_nowhere(out, tmp_path, caplog):
    secret = "Tr0ub4dor&3-horse-battery"
    encoded = [
        base64.b64encode(f"\0mailer\0{secret}".encode()).decode(),
        base64.b64encode(secret.encode()).decode(),
    ]
    tls = self_signed(tmp_path)
    caplog.set_level("DEBUG")
    with smtp_server(tls=tls.server, auth=("mailer", secret)) as (box, port):
        config = write_config(
            tmp_path, port, security="starttls", user="mailer", ca_file=str(tls.ca_file)
        )
        ok = send(config, str(out), "--to", "a@example.org", env={"DIGEST_SMTP_PASSWORD": secret})
        wrong = send(
            config, str(out), "--to", "b@example.org", env={"DIGEST_SMTP_PASSWORD": "nope"}
        )
        dry = send(
            config,
            str(out),
            "--to",
            "c@example.org",
            "--dry-run",
            env={"DIGEST_SMTP_PASSWORD": secret},
        )
        missing = send(config, str(out), "--to", "d@example.org", env={"DIGEST_SMTP_PASSWORD": ""})
    assert ok.exit_code == 0, ok.output
    assert box.copies("a@example.org") == 1
    assert wrong.exit_code == 1 and "refused the login of user 'mailer'" in wrong.output
    assert dry.exit_code == 0, dry.output
    assert missing.exit_code == 1 and "DIGEST_SMTP_PASSWORD is not set" in missing.output
    # aiosmtpd's own logger ("mail.log") is the server's, not ours
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    haystacks = [ok.output, wrong.output, dry.output, missing.output, *ours]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            haystacks.append(path.read_bytes().decode("latin-1"))
    assert (out / LEDGER_NAME).is_file() and (out / "outbox").is_dir()
    for text in haystacks:
        for needle in (secret, *encoded):
            assert needle not in text


def test_password_is_never_sent_in_the_clear_to_another_host(out, tmp_path):
    config = write_config(tmp_path, 25, host="mail.example.org", user="u")
    result = send(config, str(out), "--to", "a@example.org", env={"DIGEST_SMTP_PASSWORD": "x"})
    assert result.exit_code == 1
    assert "refusing to send the password without TLS" in result.output


def test_no_server_is_a_clear_error(out, tmp_path):
    port = free_port()
    result = send(write_config(tmp_path, port), str(out), "--to", "a@example.org")
    assert result.exit_code == 1
    assert f"error: cannot connect to 127.0.0.1:{port}" in result.output
    assert "hint: check --smtp-host" in result.output


def test_dry_run_sends_nothing_and_writes_eml_files(out, tmp_path):
    result = send(
        write_config(tmp_path, 25),
        str(out),
        "--to",
        "Ann <ann@example.org>",
        "--to",
        "bob@example.org",
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert "Dry run, nothing was sent" in result.output
    files = sorted((out / "outbox").iterdir())
    assert [f.name for f in files] == ["0001-ann_at_example.org.eml", "0002-bob_at_example.org.eml"]
    assert f"ann@example.org -> {files[0]}" in result.output
    msg = message_from_bytes(files[0].read_bytes(), policy=email_policy.default)
    assert msg["To"] == "Ann <ann@example.org>"
    assert not (out / LEDGER_NAME).exists()


def test_test_send_marks_the_subject_and_leaves_the_ledger_alone(out, tmp_path):
    with smtp_server() as (box, port):
        config = write_config(tmp_path, port)
        test = send(config, str(out), "--test", "editor@example.org")
        real = send(config, str(out), "--to", "editor@example.org")
    assert test.exit_code == 0 and real.exit_code == 0, test.output + real.output
    subjects = [r.message["Subject"] for r in box.received]
    assert subjects == [
        "[TEST] International Health Digest #1 – November 2024",
        "International Health Digest #1 – November 2024",
    ]


def test_export_json_writes_one_esp_payload_per_recipient(out, tmp_path):
    dest = tmp_path / "api"
    result = send(
        write_config(tmp_path, 25),
        str(out),
        "--to",
        "Ann <ann@example.org>",
        "--to",
        "bob@example.org",
        "--export-json",
        str(dest),
    )
    assert result.exit_code == 0, result.output
    files = sorted(dest.iterdir())
    assert len(files) == 2
    payload = json.loads(files[0].read_text(encoding="utf-8"))
    assert set(payload) == {"from", "to", "subject", "html", "text", "headers"}
    assert payload["to"] == "Ann <ann@example.org>"
    assert payload["from"] == "Digest <digest@example.org>"
    assert payload["html"].rstrip("\n") == (out / "digest.html").read_text(encoding="utf-8")
    assert payload["text"] == (out / "digest.txt").read_text(encoding="utf-8")
    assert "\r" not in payload["text"] + payload["html"]
    assert "Message-ID" in payload["headers"] and "Content-Type" not in payload["headers"]


def test_csv_fields_cannot_inject_headers_or_recipients(out, tmp_path):
    csv_file = tmp_path / "r.csv"
    csv_file.write_text(
        'email,name\neve@example.org,"Eve\r\nBcc: victim@example.org"\n', encoding="utf-8"
    )
    with smtp_server() as (box, port):
        result = send(write_config(tmp_path, port), str(out), "--recipients", str(csv_file))
    assert result.exit_code == 0, result.output
    (rec,) = box.received
    assert rec.rcpt_tos == ["eve@example.org"]
    assert rec.message["Bcc"] is None
    assert rec.message["To"] == '"Eve Bcc: victim@example.org" <eve@example.org>'
    assert b"\r\nBcc:" not in rec.data


def test_personalised_unsubscribe_link(built_once, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(built_once / "unsub", out)
    outbox = Outbox.load(out, UNSUB, secret="k")
    ann = outbox.message(Recipient("ann+news@example.org", "Ann"))
    bob = outbox.message(Recipient("bob@example.org", fields=(("token", "tok en"),)))
    ann_text, ann_html = (c for _, c in parts(ann))
    bob_text, _bob_html = (c for _, c in parts(bob))
    assert "?email=ann%2Bnews%40example.org&t=" in ann_text
    assert "?email=ann%2Bnews%40example.org&amp;t=" in ann_html
    assert "{email}" not in ann_text + ann_html
    ann_url = outbox.unsubscribe_url(Recipient("ann+news@example.org"))
    assert f"<{ann_url}>" in ann["List-Unsubscribe"]  # the header too (RFC 8058 one-click)
    assert "{" not in str(ann["List-Unsubscribe"])
    assert "bob%40example.org&t=tok%20en" in bob_text
    assert "ann" not in bob_text.split("Unsubscribe")[-1]
    built = (out / "digest.txt").read_text(encoding="utf-8").rstrip("\n")
    assert (
        ann_text.replace(outbox.unsubscribe_url(Recipient("ann+news@example.org")), UNSUB) == built
    )


def test_token_without_a_secret_or_column_is_an_error(built_once, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(built_once / "unsub", out)
    config = tmp_path / "digest.toml"
    config.write_text(f'[newsletter]\nunsubscribe_url = "{UNSUB}"\n', encoding="utf-8")
    result = send(config, str(out), "--to", "a@example.org", "--dry-run")
    assert result.exit_code == 1
    assert "uses {token} but a@example.org has no token" in result.output


def test_a_rebuilt_digest_is_not_sent_to_those_who_had_the_first_build(out, tmp_path):
    with smtp_server() as (box, port):
        config = write_config(tmp_path, port)
        assert send(config, str(out), "--to", "a@example.org").exit_code == 0
        eml = out / "digest.eml"
        eml.write_bytes(eml.read_bytes().replace(b"INTERNATIONAL HEALTH", b"INTERNATIONAL HEALTH!"))
        again = send(config, str(out), "--to", "a@example.org", "--to", "b@example.org")
        assert again.exit_code == 1
        assert "already sent a different build" in again.output
        forced = send(config, str(out), "--to", "a@example.org", "--new-issue")
    assert forced.exit_code == 0, forced.output
    assert box.copies("a@example.org") == 2 and box.copies("b@example.org") == 0


def test_no_built_digest_is_an_error(tmp_path):
    result = send(write_config(tmp_path, 25), str(tmp_path / "empty"), "--to", "a@example.org")
    assert result.exit_code == 1
    assert "no built digest to send" in result.output
    assert "digest build" in result.output


def test_esp_payload_skips_mime_headers(out):
    outbox = Outbox.load(out)
    payload = esp_payload(outbox.message(Recipient("a@example.org")))
    assert payload["subject"] == "International Health Digest #1 – November 2024"
    assert "Message-ID" in payload["headers"] and "List-Id" in payload["headers"]
    assert not {"Content-Type", "MIME-Version", "From", "To", "Date"} & set(payload["headers"])


def test_ledger_rows_after_a_send(out, tmp_path):
    with smtp_server(Mailbox(refuse={"no@example.org": "550 no"})) as (_box, port):
        send(
            write_config(tmp_path, port),
            str(out),
            "--to",
            "a@example.org",
            "--to",
            "no@example.org",
        )
    db = sqlite3.connect(out / LEDGER_NAME)
    rows = sorted(db.execute("SELECT email, state, reply FROM sends"))
    db.close()
    assert rows == [
        ("a@example.org", "sent", "250 2.0.0 queued"),
        ("no@example.org", "refused", "550 no"),
    ]
    ledger = Ledger(out / LEDGER_NAME, readonly=True)
    assert {e.state for e in ledger.entries(Outbox.load(out).issue).values()} == {"sent", "refused"}
    ledger.close()


def test_the_fast_copy_is_the_same_message_as_the_parsed_one(out):
    import datetime as dt

    outbox = Outbox.load(out)
    r = Recipient("j@example.org", 'Jürgen "JJ" Müller, Esq.')
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    raw = outbox.message_bytes(r, test=True, message_id="<x1@example.org>", now=when)
    fast = message_from_bytes(raw, policy=email_policy.default)
    slow = outbox.message(r, test=True, message_id="<x1@example.org>", now=when)
    assert [(k, str(v)) for k, v in fast.items()] == [(k, str(v)) for k, v in slow.items()]
    assert fast["To"].addresses[0].display_name == 'Jürgen "JJ" Müller, Esq.'
    assert parts(fast) == parts(slow)
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_a_timeout_is_retried_on_a_new_connection(out, tmp_path):
    box = Mailbox(stall=1, stall_seconds=1.0)
    with smtp_server(box) as (box, port):
        before = box.connections
        config = write_config(tmp_path, port, timeout=0.3)
        result = send(config, str(out), "--to", "a@example.org", "--to", "b@example.org")
        connections = box.connections - before
    assert result.exit_code == 0, result.output
    assert box.copies("a@example.org") == 1 and box.copies("b@example.org") == 1
    assert connections == 2


def test_message_ids_use_the_domain_of_the_built_one(out):
    eml = out / "digest.eml"
    data = eml.read_bytes()
    built = message_from_bytes(data, policy=email_policy.default)["Message-ID"]
    eml.write_bytes(data.replace(built.encode(), b"<abc@lists.example.net>"))
    outbox = Outbox.load(out)
    first, second = outbox.new_message_id(), outbox.new_message_id()
    assert first != second and first.endswith("@lists.example.net>")


def test_an_address_spelled_differently_next_time_is_not_sent_again(out, tmp_path):
    with smtp_server() as (box, port):
        config = write_config(tmp_path, port)
        first = send(config, str(out), "--to", "Ann.Reader@example.org")
        second = send(config, str(out), "--to", "ann.reader@EXAMPLE.org")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "Already sent before (not sent again): 1" in second.output
    assert [r.rcpt_tos for r in box.received] == [["Ann.Reader@example.org"]]


def test_a_dry_run_after_a_partial_send_lists_only_those_still_to_go(out, tmp_path):
    with smtp_server() as (_box, port):
        config = write_config(tmp_path, port)
        assert send(config, str(out), "--to", "a@example.org").exit_code == 0
    ledger_before = (out / LEDGER_NAME).read_bytes()
    dry = send(config, str(out), "--to", "a@example.org", "--to", "b@example.org", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Already sent before (not sent again): 1" in dry.output
    assert [f.name for f in (out / "outbox").iterdir()] == ["0001-b_at_example.org.eml"]
    assert (out / LEDGER_NAME).read_bytes() == ledger_before


@pytest.mark.parametrize(
    ("smtp", "env", "message"),
    [
        ({"security": "tls"}, {}, "smtp.security: 'tls' is not one of starttls, ssl, none"),
        ({"port": 70000}, {}, "smtp.port: 70000 is not a port"),
        ({"host": " "}, {}, "smtp.host is empty"),
        ({"user": "u"}, {}, "smtp.user is 'u' but DIGEST_SMTP_PASSWORD is not set"),
        ({"ca_file": "/nope/ca.pem"}, {}, "/nope/ca.pem: CA file not found"),
        ({"retries": -1}, {}, "smtp.retries and smtp.backoff >= 0"),
    ],
)
def test_smtp_settings_are_checked(smtp, env, message):
    from digest.config import SmtpConfig
    from digest.deliver import smtp_settings
    from digest.errors import DigestError

    with pytest.raises(DigestError) as err:
        smtp_settings(SmtpConfig(**smtp), env)
    assert message in err.value.message


def test_default_ports_and_the_password_kept_out_of_repr():
    from digest.config import SmtpConfig
    from digest.deliver import smtp_settings

    s = smtp_settings(SmtpConfig(user="u"), {"DIGEST_SMTP_PASSWORD": "pw-123"})
    assert s.port == 587 and s.password == "pw-123"
    assert "pw-123" not in repr(s)
    assert smtp_settings(SmtpConfig(security="ssl"), {}).port == 465
    assert (
        smtp_settings(SmtpConfig(security="none", user="x"), {"DIGEST_SMTP_PASSWORD": "p"}).port
        == 25
    )


def test_the_fast_personalised_copy_is_the_same_message_as_the_parsed_one(built_once, tmp_path):
    import datetime as dt

    out = tmp_path / "out"
    shutil.copytree(built_once / "unsub", out)
    outbox = Outbox.load(out, UNSUB, secret="k")
    assert outbox._parts, "the fast path is in use"
    r = Recipient("ann+news@example.org", "Ann")
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    raw = outbox.message_bytes(r, message_id="<x2@example.org>", now=when)
    fast = message_from_bytes(raw, policy=email_policy.default)
    slow = outbox.message(r, message_id="<x2@example.org>", now=when)
    assert [(k, str(v)) for k, v in fast.items()] == [(k, str(v)) for k, v in slow.items()]
    assert parts(fast) == parts(slow)
    assert "email=ann%2Bnews%40example.org&amp;t=" in parts(fast)[1][1]
    assert b"\r\nList-Unsubscribe: <https://news.example.org/unsubscribe?email=ann%2Bnews" in raw
    assert b"=?utf-8?" not in raw.split(b"List-Unsubscribe:", 1)[1].split(b"\r\n", 1)[0]
    assert not fast.defects and all(not p.defects for p in fast.walk())
    from digest.message import to_bytes

    assert to_bytes(slow) == raw  # the two paths write the same bytes
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_a_build_does_not_replace_a_folder_a_send_is_working_on(tmp_path):
    """A send records who got the digest in the folder it started on; a build
    into that folder meanwhile would swap the folder and lose the record.
    The build stops instead (nothing written), and goes ahead once the send
    is done."""
    from digest.deliver import write_files
    from digest.ledger import open_ledger

    out = tmp_path / "out"
    write_files(str(out), Rendered(files=(("digest.eml", b"issue 1"),)))
    with open_ledger(out):  # what 'digest send' holds while it sends
        with pytest.raises(DigestError) as err:
            write_files(str(out), Rendered(files=(("digest.eml", b"issue 2"),)))
        assert "a 'digest send' is sending from this folder; nothing was written" in (
            err.value.message
        )
        assert "-o/--out" in (err.value.hint or "")
        assert (out / "digest.eml").read_bytes() == b"issue 1"
        assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging left behind
    write_files(str(out), Rendered(files=(("digest.eml", b"issue 2"),)))
    assert (out / "digest.eml").read_bytes() == b"issue 2"
    assert (out / "send-ledger.sqlite").is_file()  # the ledger is carried over
