"""A folder the test process cannot write in, also when the tests run as root (CI containers do)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _writable(folder: Path) -> bool:
    probe = folder / ".probe"
    try:
        probe.touch()
    except OSError:
        return False
    probe.unlink()
    return True


@contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """Create ``folder`` read-only (mode 0555; immutable too where root ignores the mode), or skip."""
    folder.mkdir(parents=True)
    folder.chmod(0o555)
    immutable = False
    if _writable(folder) and shutil.which("chattr"):
        immutable = (
            subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False).returncode == 0
        )
    try:
        if _writable(folder):
            pytest.skip("cannot make a folder read-only for this user here (root, and no chattr +i)")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)
