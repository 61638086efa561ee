"""Headless Chromium for the OAuth tests: Debian's chromium + chromedriver via selenium.

The test setup installs the browser when it is missing (`apt-get install
chromium chromium-driver`; root on the machines of this project). With
CI=true a failed install fails the run; elsewhere it skips the browser
tests with the reason.

Selenium is given both binaries, so Selenium Manager never tries to
download a browser or driver (the network is closed), and Chromium runs
with the flags that stop its background traffic.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")
DRIVER_CANDIDATES = ("chromedriver",)
APT_PACKAGES = ("chromium", "chromium-driver")
INSTALL_TIMEOUT_SECONDS = 900
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-default-apps",
    "--disable-extensions",
    "--password-store=basic",
    "--window-size=1024,900",
)
_install_lock = threading.Lock()


def _find(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def _install() -> str:
    """Runs apt-get; returns its output (for the failure message)."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # An install cut short earlier (a killed test run) leaves dpkg waiting to
    # be finished; apt-get refuses to install anything until it is.
    commands = (
        ["dpkg", "--configure", "-a"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", *APT_PACKAGES],
    )
    output = []
    for command in commands:
        result = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            check=False,
        )
        output.append(result.stdout[-2000:] + result.stderr[-2000:])
        if result.returncode != 0:
            break
    return "\n".join(output)


def chromium_binaries() -> tuple[str, str]:
    """(chromium, chromedriver), installed first when missing."""
    with _install_lock:
        chromium, driver = _find(CHROMIUM_CANDIDATES), _find(DRIVER_CANDIDATES)
        if chromium and driver:
            return chromium, driver
        log = _install()
        chromium, driver = _find(CHROMIUM_CANDIDATES), _find(DRIVER_CANDIDATES)
        if chromium and driver:
            return chromium, driver
        message = f"could not install {' and '.join(APT_PACKAGES)}:\n{log}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    raise AssertionError("unreachable")


@contextmanager
def headless_chromium(profile_dir: Path) -> Iterator[Any]:
    """A selenium Chrome driver on headless Chromium; quit on exit."""
    # Imported here: selenium is only needed by the browser tests.
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    chromium, driver_path = chromium_binaries()
    profile_dir.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    service = Service(executable_path=driver_path, log_output=str(profile_dir / "driver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
