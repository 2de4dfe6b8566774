"""Send the digest to 1,000 recipients through a local SMTP server; print the time.

    python bench/send.py [--recipients N] [--rate N/s] [--personalised]

Builds seeds/ into a temporary folder, starts aiosmtpd on 127.0.0.1 (a free
port), sends one copy per recipient with ``digest send``'s core (the ledger
included), checks that each recipient got exactly one copy, and prints the
total seconds and messages per second. ``--personalised`` gives every copy
its own unsubscribe link (the bodies are re-encoded per recipient).
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from digest import deliver  # noqa: E402
from digest.config import Config, NewsletterConfig, SmtpConfig  # noqa: E402
from digest.pipeline import build_to  # noqa: E402


class Counter:
    def __init__(self) -> None:
        self.rcpts: list[str] = []
        self.bytes = 0

    async def handle_DATA(self, server, session, envelope):
        self.rcpts.extend(envelope.rcpt_tos)
        self.bytes += len(envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--rate", default="")
    parser.add_argument("--personalised", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        unsubscribe = "https://example.org/unsubscribe?email={email}&t={token}"
        newsletter = NewsletterConfig(unsubscribe_url=unsubscribe if args.personalised else "")
        build_to(Config(newsletter=newsletter), str(out), [str(ROOT / "seeds")])
        to = [f"reader{i:05d}@example.org" for i in range(args.recipients)]
        handler = Counter()
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        try:
            smtp = SmtpConfig(
                host="127.0.0.1", port=controller.port, security="none", rate=args.rate
            )
            start = time.perf_counter()
            env = {"DIGEST_UNSUBSCRIBE_SECRET": "bench"}
            plan = deliver.plan_send(
                Config(newsletter=newsletter, smtp=smtp), str(out), to, environ=env
            )
            report = deliver.run_send(plan, smtp)
            seconds = time.perf_counter() - start
        finally:
            controller.stop()
        sent = len(report.of(deliver.SENT))
        once = sorted(handler.rcpts) == sorted(to)
        size = handler.bytes / max(1, len(handler.rcpts)) / 1024
        kind = "personalised" if args.personalised else "same body"
        print(f"recipients: {len(to)} ({kind})  sent: {sent}  each exactly once: {once}")
        print(f"message size: {size:.0f} KiB  ledger: {out / 'send-ledger.sqlite'}")
        print(f"total: {seconds:.2f} s  rate: {sent / seconds:.0f} messages/s")
        if not (report.ok and once):
            sys.exit(1)


if __name__ == "__main__":
    main()
