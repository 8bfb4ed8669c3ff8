"""The book as a reader sees it: served on loopback and opened in headless Chromium.

Every chapter page must load with its figures, without broken links or console errors.
Screenshots of the landing page and one chapter are saved to ``_build/screenshots/``.
Chromium and ChromeDriver come from Debian (``make test`` installs them); nothing here
downloads a browser.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from helpers.book import pipeline

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def served_book(built_book):
    root, _ = built_book
    site = root / "_build" / "html"
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(
            "Debian's chromium and chromium-driver are not installed; `make test` "
            "installs them (apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        "--disable-dev-shm-usage",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("img", "script") and a.get("src"):
            self.links.append(a["src"])
        if tag == "link" and a.get("href"):
            self.links.append(a["href"])


def _pages() -> list[str]:
    return (
        ["index.html"]
        + [f"book/chapters/{s}.html" for s in pipeline.chapters()]
        + ["book/methods.html", "book/data_dictionary.html", "book/references.html"]
    )


def test_every_page_loads_with_figures_and_no_console_errors(served_book, browser) -> None:
    base, _ = served_book
    for page in _pages():
        browser.get(base + page)
        assert browser.title, page
        browser.get_log("browser")  # flush
        browser.execute_script("window.scrollTo(0, document.documentElement.scrollHeight);")
        if page.startswith("book/chapters/"):
            images = browser.execute_script(
                "return Array.from(document.images).filter(i => i.src.includes('_images'))"
                ".map(i => [i.complete, i.naturalWidth]);"
            )
            assert images, f"{page} shows no figure"
            assert all(ok and width > 0 for ok, width in images), f"{page}: broken image"
            # the page reads as prose with results: no code source is visible on first load
            visible_code = browser.execute_script(
                "return Array.from(document.querySelectorAll('.cell_input'))"
                ".filter(e => !e.closest('details:not([open])') && e.offsetParent !== null).length;"
            )
            assert visible_code == 0, f"{page}: {visible_code} code cells shown unfolded"
        # a table wider than the text sits in a box that scrolls sideways, never cut at the edge
        cut = browser.execute_script(
            "const main = document.querySelector('main') || document.body;"
            "if (!main) return -1;"
            "return Array.from(main.querySelectorAll('table')).filter(t => {"
            "  let box = t.parentElement;"
            "  while (box && box !== main) {"
            "    const o = getComputedStyle(box).overflowX;"
            "    if (o === 'auto' || o === 'scroll') return false;"
            "    box = box.parentElement;"
            "  }"
            "  return t.getBoundingClientRect().width > main.getBoundingClientRect().width + 1;"
            "}).length;"
        )
        assert cut == 0 or (cut == -1 and page == "index.html"), f"{page}: {cut} tables cut at the page edge"
        browser.get(base + page)
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"{page}: console errors {errors}"


def test_no_broken_internal_links(served_book) -> None:
    base, site = served_book
    checked: set[str] = set()
    for page in _pages():
        parser = _Links()
        parser.feed((site / page).read_text())
        for link in parser.links:
            url = urljoin(base + page, link)
            parsed = urlparse(url)
            if not url.startswith(base) or parsed.path in checked:
                continue  # external links are not followed (no network here)
            checked.add(parsed.path)
            try:
                with urllib.request.urlopen(url.split("#")[0], timeout=10) as resp:
                    assert resp.status == 200, url
            except urllib.error.HTTPError as exc:
                pytest.fail(f"broken link on {page}: {link} → HTTP {exc.code}")
    assert len(checked) > 20


def test_screenshots_of_landing_page_and_a_chapter(served_book, browser) -> None:
    base, _ = served_book
    out = REPO / "_build" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for name, page in (
        ("landing", "index.html"),
        ("chapter", f"book/chapters/{pipeline.chapters()[1]}.html"),
    ):
        browser.get(base + page)
        path = out / f"{name}.png"
        assert browser.save_screenshot(str(path))
        assert path.stat().st_size > 10_000
