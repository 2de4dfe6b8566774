"""Stage 6, deliver: put the rendered files where they go.

``write_files`` writes a build into a folder atomically: every file is first
written into a temporary folder beside the target, then moved in with
``os.replace``, so a crash leaves either the old or the new file, never a
half-written one. Delivery backends are registered in :data:`BACKENDS`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import DigestError
from .model import Rendered


def write_files(out: str, rendered: Rendered) -> list[Path]:
    """Write every file of ``rendered`` into ``out``; return their paths."""
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise DigestError(
            f"{out}: output path is a file, not a folder", hint="pass a folder with -o/--out"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".digest-", dir=target))
    except OSError as exc:
        raise DigestError(
            f"{out}: cannot write the output folder: {exc.strerror or exc}",
            hint="choose a writable folder with -o/--out",
        ) from exc
    written = []
    try:
        for name, data in rendered.files:
            tmp = staging / name
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for name, _ in rendered.files:
            final = target / name
            os.replace(staging / name, final)
            written.append(final)
    except OSError as exc:
        raise DigestError(
            f"{out}: cannot write the digest: {exc.strerror or exc}",
            hint="free some disk space or choose another folder with -o/--out",
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


Backend = Callable[..., object]
BACKENDS: dict[str, Backend] = {"file": write_files}
