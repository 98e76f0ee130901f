"""Find Debian's Chromium for the report's browser tests, installing it when this machine can.

CI starts from a fresh machine with no browser, and Playwright cannot download its own builds here (no
network but the package registries), so the tests drive Debian's ``chromium`` package: found at
``/usr/bin/chromium`` or on PATH, or installed with apt-get when the process is root. Anything else is
a skip whose reason says what is missing and how to get it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

DEBIAN_CHROMIUM: Final = Path("/usr/bin/chromium")
#: Headless and offline: without the background-networking flags Chromium keeps calling Google's hosts,
#: which this machine's closed network refuses, many times per start.
CHROMIUM_FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
_APT_ENV: Final = {"DEBIAN_FRONTEND": "noninteractive"}
#: Another apt-get on the machine (a concurrent install, unattended upgrades) holds the lock a while.
_APT_LOCK_WAIT: Final = ("-o", "DPkg::Lock::Timeout=300")


@dataclass(frozen=True)
class BrowserLookup:
    """Chromium's path, or why there is none (the skip reason)."""

    path: Path | None
    reason: str = ""


def installed_chromium() -> Path | None:
    """Debian's Chromium if it is installed, else any ``chromium`` on PATH."""
    if DEBIAN_CHROMIUM.exists():
        return DEBIAN_CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


def can_install_packages() -> bool:
    """Whether this process may install Debian packages itself (root, with apt-get)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def _apt(args: list[str], say: Callable[[str], None]) -> subprocess.CompletedProcess[str]:
    command = ["apt-get", *_APT_LOCK_WAIT, *args]
    say("running: " + " ".join(command))
    return subprocess.run(
        command, env={**os.environ, **_APT_ENV}, capture_output=True, text=True, timeout=900, check=False
    )


def find_or_install_chromium(say: Callable[[str], None] = log.info) -> BrowserLookup:
    """Chromium's path, installing Debian's ``chromium`` with apt-get when missing and allowed.

    ``say`` receives one line per step (what was found, each apt-get command), so a CI log shows why
    the browser tests ran or were skipped.
    """
    if (path := installed_chromium()) is not None:
        say(f"chromium found at {path}")
        return BrowserLookup(path)
    if not can_install_packages():
        return BrowserLookup(
            None,
            "no chromium at /usr/bin/chromium or on PATH, and this process cannot install it (it needs "
            "root and apt-get): install Debian's 'chromium' package to run the report's browser tests",
        )
    say("chromium is not installed: installing Debian's chromium package with apt-get")
    install = ["install", "-y", "--no-install-recommends", "chromium"]
    result = _apt(install, say)
    if result.returncode != 0:
        # A fresh machine has no package lists yet: apt-get cannot find chromium until they are read.
        say("apt-get install failed; reading the package lists first (apt-get update)")
        _apt(["update"], say)
        result = _apt(install, say)
    if result.returncode != 0 or (path := installed_chromium()) is None:
        tail = " ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        return BrowserLookup(None, f"chromium could not be installed with apt-get: {tail}")
    say(f"chromium installed at {path}")
    return BrowserLookup(path)


@dataclass(frozen=True)
class Capture:
    """What Chromium made of a page: its DOM after rendering, a screenshot, and what it complained of.

    ``problems`` are console errors and uncaught page errors (Playwright), or every console message
    (Chromium alone cannot tell their level; the report logs none). ``requests`` are the URLs the page
    asked for besides itself (Playwright only).
    """

    driver: str
    dom: str
    screenshot: Path
    problems: list[str]
    requests: list[str]


#: The laptop-sized window the screenshot shows: header, headline numbers and both charts.
WINDOW: Final = (1280, 1180)


def capture_with_playwright(chromium: Path, page: Path, screenshot: Path, profile: Path) -> Capture:
    """Open ``page`` in ``chromium`` driven by Playwright; raises ImportError or playwright's Error."""
    from playwright.sync_api import ConsoleMessage, sync_playwright

    problems: list[str] = []
    requests: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium),
            # Playwright passes --headless and --user-data-dir itself.
            args=[flag for flag in CHROMIUM_FLAGS if flag != "--headless"],
            headless=True,
            viewport={"width": WINDOW[0], "height": WINDOW[1]},
        )
        try:
            tab = context.pages[0] if context.pages else context.new_page()
            tab.on("console", on_console)
            tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            tab.on("request", lambda request: requests.append(request.url))
            tab.goto(page.as_uri(), wait_until="load")
            tab.screenshot(path=str(screenshot))
            dom = tab.content()
        finally:
            context.close()
    return Capture("playwright", dom, screenshot, problems, [url for url in requests if url != page.as_uri()])


def _chromium(chromium: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(chromium),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120, check=True)


def capture_with_chromium(chromium: Path, page: Path, screenshot: Path, profile: Path) -> Capture:
    """Open ``page`` with Chromium's own --screenshot and --dump-dom; console messages from its log."""
    window = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    shot = _chromium(
        chromium, profile / "shot", window, "--hide-scrollbars", f"--screenshot={screenshot}", page.as_uri()
    )
    dump = _chromium(chromium, profile / "dom", window, "--dump-dom", page.as_uri())
    # Chromium logs every console message of the page as ":CONSOLE" at INFO, whatever its level.
    problems = [line for run in (shot, dump) for line in run.stderr.splitlines() if ":CONSOLE" in line]
    return Capture("chromium", dump.stdout, screenshot, problems, [])


def capture(
    chromium: Path, page: Path, screenshot: Path, workdir: Path, say: Callable[[str], None]
) -> Capture:
    """Render ``page`` with Playwright driving ``chromium``, or with Chromium alone if Playwright fails."""
    fallback = "using chromium's own --screenshot and --dump-dom"
    try:
        from playwright.sync_api import Error as PlaywrightError
    except ImportError as exc:
        say(f"Playwright is not installed ({exc}): {fallback}")
        return capture_with_chromium(chromium, page, screenshot, workdir / "chromium-profile")
    try:
        return capture_with_playwright(chromium, page, screenshot, workdir / "playwright-profile")
    except PlaywrightError as exc:
        say(f"Playwright could not drive {chromium} ({exc}): {fallback}")
        return capture_with_chromium(chromium, page, screenshot, workdir / "chromium-profile")
