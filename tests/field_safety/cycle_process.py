"""Running ``enkash-ar cycle`` as its own process in the field-safety tests, and waiting for things."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from tests.cli.cli_helpers import REPO, cycle_args
from tests.enkash_checks import ErpExport


class Cycle:
    """``enkash-ar cycle`` running as its own process, its output read as it comes."""

    def __init__(self, env: dict[str, str], export: ErpExport, out: Path, as_of: date, *extra: str) -> None:
        args = cycle_args(export.customers_file, export.invoices_file, out, as_of, *extra)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def finish(self, timeout: float = 300) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.05)
