"""The sandbox page in a real browser (Debian's chromium, headless, driven by Selenium
through Debian's chromedriver; no browser is downloaded): a rep accepts a card, another
rejects one through the dialog, and both cards change. The screenshot is kept (set
HANDOFF_SCREENSHOT to choose where; the README's picture comes from here)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from bot.sandbox.script import card_state, owners
from bot.sandbox.stack import DemoStack
from tests.helpers import wait_for

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    if not (CHROMIUM and CHROMEDRIVER):
        message = "Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _button(browser: WebDriver, action: str, handoff_id: int) -> str:
    return f'button[data-click*=\'"action_id":"{action}"\'][data-click*=\'"value":"{handoff_id}"\']'


def test_accept_and_reject_in_the_browser(
    browser: WebDriver, demo_stack: DemoStack, tmp_path: Path
) -> None:
    by_rep = {hid: rep for hid, (rep, _) in owners(demo_stack).items() if rep}
    first, second = list(by_rep)[:2]
    wait = WebDriverWait(browser, 15)
    browser.get(f"{demo_stack.page_url}?as={by_rep[first]}")
    wait.until(
        expected_conditions.element_to_be_clickable(
            (By.CSS_SELECTOR, _button(browser, "handoff_accept", first))
        )
    ).click()
    wait_for(lambda: (demo_stack.deliver(), card_state(demo_stack, first))[1])
    wait.until(
        expected_conditions.text_to_be_present_in_element((By.ID, "messages"), "Accepted by")
    )
    assert "Accepted by" in card_state(demo_stack, first)

    browser.get(f"{demo_stack.page_url}?as={by_rep[second]}")
    wait.until(
        expected_conditions.element_to_be_clickable(
            (By.CSS_SELECTOR, _button(browser, "handoff_reject", second))
        )
    ).click()
    dialog = wait.until(expected_conditions.visibility_of_element_located((By.ID, "modal")))
    dialog.find_element(By.CSS_SELECTOR, "button.primary").click()  # no reason chosen yet
    wait.until(
        expected_conditions.text_to_be_present_in_element(
            (By.CSS_SELECTOR, "[data-error='reject_reason_block']"), "Choose why"
        )
    )
    Select(dialog.find_element(By.CSS_SELECTOR, "select")).select_by_value("no_budget")
    dialog.find_element(By.CSS_SELECTOR, "button.primary").click()
    wait.until(expected_conditions.invisibility_of_element_located((By.ID, "modal")))
    wait_for(lambda: (demo_stack.deliver(), card_state(demo_stack, second))[1])
    wait.until(
        expected_conditions.text_to_be_present_in_element((By.ID, "messages"), "Rejected by")
    )
    assert "No budget or timing" in card_state(demo_stack, second)
    browser.execute_script("document.getElementById('messages').scrollTop = 0")
    shot = Path(os.environ.get("HANDOFF_SCREENSHOT") or tmp_path / "sandbox.png")
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def test_the_header_stays_one_line_and_emoji_never_show_as_boxes(
    browser: WebDriver, demo_stack: DemoStack
) -> None:
    colour_font = bool(
        shutil.which("fc-list")
        and "emoji" in subprocess.run(["fc-list"], capture_output=True, text=True).stdout.lower()
    )
    for width in (1280, 900):
        browser.set_window_size(width, 900)
        browser.get(demo_stack.page_url)
        WebDriverWait(browser, 15).until(
            expected_conditions.text_to_be_present_in_element((By.ID, "clock"), "America")
        )
        height = browser.execute_script("return document.querySelector('header').offsetHeight")
        assert height < 60, f"the header wrapped at {width} px ({height} px high)"
    found = browser.execute_script("return hasColorEmoji()")
    assert found == colour_font  # the page sees what fontconfig has
    shown = browser.execute_script("return EMOJI.repeat")
    assert shown == ("🔁" if colour_font else "↻")  # boxes never: a text symbol without a font
