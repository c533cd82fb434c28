"""Debian's Chromium driven by Playwright (it cannot download its own browser
here). With CI set, a missing Chromium fails the test instead of skipping."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> str:
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing: scripts/setup-dev installs the Debian package")
    pytest.skip("Chromium is not installed (scripts/setup-dev installs it)")


@contextmanager
def browser_context(profile: Path) -> Iterator[object]:
    """A fresh Chromium with a new, empty user-data dir; yields a BrowserContext."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    profile.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=ARGS,
            viewport={"width": 1400, "height": 900},
        )
        try:
            yield ctx
        finally:
            ctx.close()


def sign_in(page: Any, url: str, token: str) -> None:
    """Through the login form, as a person would; lands on the investigations list."""
    page.goto(f"{url}/login")
    page.fill("#token", token)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/investigations")
