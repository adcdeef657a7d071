"""Write local output files atomically and privately: readers (node_exporter, browsers, CI) never
see half a file, and nobody else on the controller can read what hosts told us."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

PRIVATE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make the directory itself 0700; returns it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def atomic_write_bytes(path: Path, data: bytes, mode: int = PRIVATE) -> None:
    """Write ``data`` to a fresh temporary file next to ``path`` (``mkstemp``: a new name, never
    a planted symlink), set ``mode`` (0600 unless the caller needs others to read it), then
    rename it into place."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str, mode: int = PRIVATE) -> None:
    atomic_write_bytes(path, text.encode(), mode)


def sha256_file(path: Path) -> str:
    """A file's sha256, read in 1 MiB blocks (model files, evidence archives, ledger records)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
