"""Real-browser helpers: Debian's Chromium headless driven by Selenium.

Selenium Manager never downloads anything: the driver and the browser are
the apt packages' binaries and SE_OFFLINE is set.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
)

__all__ = ["Browser", "By", "Keys", "ARTIFACTS", "browser_available", "screenshot_on_failure"]


def browser_available():
    return os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)


class Browser:
    """One Chromium with its own fresh profile, pointed at one makechat."""

    def __init__(self, base_url, width=1280, height=900):
        os.environ["SE_OFFLINE"] = "true"
        self.base_url = base_url.rstrip("/")
        self.profile = tempfile.mkdtemp(prefix="makechat-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.add_argument(f"--window-size={width},{height}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER),
                                       options=options)
        self.driver.set_window_size(width, height)

    def set_size(self, width, height):
        self.driver.set_window_size(width, height)

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- navigation

    def open(self, path="/"):
        """Load a page afresh (a new document, even if only the #fragment differs)."""
        self.driver.get("about:blank")
        self.driver.get(self.base_url + path)

    def go(self, fragment):
        """Follow an in-page route such as '#/rooms'."""
        self.driver.execute_script("location.hash = arguments[0]", fragment)

    def sign_out(self):
        """Forget the token (sessionStorage) and land on a blank page."""
        if self.driver.current_url.startswith(self.base_url):
            self.driver.execute_script("sessionStorage.clear()")
        self.driver.get("about:blank")

    def log_in(self, username, password, path="/"):
        self.open(path)
        self.sign_out()
        self.open(path)
        self.fill("#login-heading ~ .field input[name=username]", username)
        self.fill("input[name=password]", password)
        self.find("input[name=password]").send_keys(Keys.ENTER)

    # -- finding and waiting

    def wait(self, timeout=5):
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05)

    def find(self, css, timeout=5):
        """Return the first visible element matching css, waiting for it."""
        return self.wait(timeout).until(
            expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css)),
            f"no visible element matches {css!r}")

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait_text(self, css, text, timeout=5):
        """Wait until an element matching css contains text; return the element."""
        def matching(driver):
            for element in driver.find_elements(By.CSS_SELECTOR, css):
                try:
                    if text in element.text:
                        return element
                except WebDriverException:   # a stale element: the page re-rendered it
                    continue
            return False
        return self.wait(timeout).until(matching, f"no {css!r} contains {text!r}")

    def wait_gone(self, css, text, timeout=5):
        def gone(driver):
            # In the page: elements removed while Python looked would go stale.
            return not driver.execute_script(
                "return Array.from(document.querySelectorAll(arguments[0]))"
                ".some((element) => element.textContent.includes(arguments[1]))", css, text)
        self.wait(timeout).until(gone, f"a {css!r} still contains {text!r}")

    def fill(self, css, text):
        element = self.find(css)
        element.clear()
        element.send_keys(text)
        return element

    def click(self, css, text=None, timeout=5):
        element = self.wait_text(css, text, timeout) if text else self.find(css, timeout)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        return element

    def accept_confirm(self, timeout=3):
        self.wait(timeout).until(expected_conditions.alert_is_present())
        self.driver.switch_to.alert.accept()

    def script(self, source, *args):
        return self.driver.execute_script(source, *args)

    def wait_until(self, predicate, timeout=5, message=""):
        return self.wait(timeout).until(lambda driver: predicate(), message)

    # -- evidence

    def screenshot(self, path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))

    def console_errors(self):
        return [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.fixture(autouse=True)
def screenshot_on_failure(request):
    """Save what each browser of a failed test showed, into tests/artifacts/
    (an autouse fixture: a module of browser tests imports it)."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    for name in request.fixturenames:
        browser = request.getfixturevalue(name) if name.endswith("browser") else None
        if isinstance(browser, Browser):
            browser.screenshot(ARTIFACTS / f"{request.node.name}-{name}.png")
