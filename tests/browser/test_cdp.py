"""The browser harness itself: without Chromium the browser tests fail and say how to fix it."""

from __future__ import annotations

import pytest

from tests.browser import cdp


def test_missing_chromium_fails_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdp, "CHROMIUM_CANDIDATES", ("/nonexistent/chromium",))
    monkeypatch.setattr(cdp.shutil, "which", lambda _name: None)
    monkeypatch.delenv("CHROME_BIN", raising=False)
    with pytest.raises(cdp.BrowserMissingError, match=r"apt-get install -y chromium"):
        cdp.chromium_path()
