"""Dark mode follows the operating system: the same app is light or dark as the
browser's `prefers-color-scheme` says (config.toml's [theme.light]/[theme.dark])."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.e2e.appserver import UI_TIMEOUT_MS, AppServer, open_login

pytestmark = pytest.mark.e2e

APP_BACKGROUND = """() => getComputedStyle(document.querySelector('[data-testid="stApp"]'))
    .backgroundColor"""


def _luminance(css_rgb: str) -> float:
    """0 (black) to 255 (white): the mean of an `rgb(r, g, b)` colour's channels."""
    channels = css_rgb[css_rgb.index("(") + 1 : css_rgb.index(")")].split(",")[:3]
    return sum(float(c) for c in channels) / 3


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_app_follows_the_systems_light_or_dark_choice(
    browser: Browser, app_server: AppServer, scheme: str
) -> None:
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page = context.new_page()
        open_login(page, app_server)
        background = page.evaluate(APP_BACKGROUND)
    finally:
        context.close()
    if scheme == "dark":
        assert _luminance(background) < 60, background
    else:
        assert _luminance(background) > 200, background
