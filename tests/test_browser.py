"""The book as a reader sees it: served on loopback and opened in headless Chromium.

Every chapter page must load with its figures, without broken links or console errors.
Chapter pages read as prose: no code shown, every glued value rendered, no ``nan`` in the
prose, every figure captioned and referred to, no table cut at the page edge, no path of this
machine. Screenshots of every chapter at desktop and phone width are saved to
``_build/screenshots/``.
Chromium and ChromeDriver come from Debian (``make test`` installs them); nothing here
downloads a browser.
"""

from __future__ import annotations

import functools
import http.server
import re
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
        if page.startswith("book/chapters/"):
            _check_prose_and_captions(browser, page)
        browser.get(base + page)
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"{page}: console errors {errors}"


#: Prose of a page: paragraphs, list items, captions and admonitions (not tables or code).
_PROSE = "main p, main li, main figcaption, main .admonition"


def _check_prose_and_captions(browser, page: str) -> None:
    """What a reader reads: every glued value rendered, no ``nan``, every figure captioned."""
    prose = browser.execute_script(
        f"return Array.from(document.querySelectorAll('{_PROSE}'))"
        ".filter(e => !e.closest('.cell_output, .cell_input, table')).map(e => e.innerText);"
    )
    text = "\n".join(prose)
    assert "{glue" not in text and "glue:" not in text, f"{page}: an unrendered glue placeholder"
    assert "```" not in text and "{admonition}" not in text, f"{page}: a directive shown as text"
    assert not re.search(r"\bnan\b", text, re.IGNORECASE), f"{page}: 'nan' in the prose"
    assert "not estimable (95% CI" not in text, page
    uncaptioned = browser.execute_script(
        "return Array.from(document.querySelectorAll('main img')).filter(i => i.src.includes('_images'))"
        ".filter(i => { const f = i.closest('figure');"
        "  return !f || !f.querySelector('figcaption') || !f.querySelector('figcaption').innerText.trim(); })"
        ".length;"
    )
    assert uncaptioned == 0, f"{page}: {uncaptioned} figures without a caption"
    references = browser.execute_script(
        "return Array.from(document.querySelectorAll('main a.reference.internal'))"
        ".filter(a => /^Fig\\. \\d+/.test(a.innerText)).length;"
    )
    assert references > 0, f"{page}: the text refers to no figure"


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


#: Window sizes of the screenshots (CSS pixels): a desktop and a phone.
WIDTHS = {"desktop": (1280, 1600), "phone": (390, 844)}


def test_no_machine_path_reaches_the_book(served_book, built_book) -> None:
    _, site = served_book
    root, _ = built_book
    paths = {str(root), str(REPO), "/tmp/", "/home/", "/work/"}
    shipped = [f for f in site.rglob("*") if f.suffix in {".html", ".ipynb", ".txt", ".json", ".csv", ".md"}]
    assert any(f.suffix == ".ipynb" for f in shipped)  # the executed notebooks under _sources/ too
    for page in shipped:
        html = page.read_text(errors="replace")
        found = sorted(p for p in paths if p in html)
        assert not found, f"{page.relative_to(site)} shows a path of this machine: {found}"


def test_screenshots_of_every_page_at_desktop_and_phone_width(served_book, browser) -> None:
    """Screenshots to look at (``_build/screenshots/``); on a phone no page scrolls sideways."""
    base, _ = served_book
    out = REPO / "_build" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    try:
        for device, (width, height) in WIDTHS.items():
            browser.set_window_size(width, height)
            for page in ["index.html"] + [f"book/chapters/{s}.html" for s in pipeline.chapters()]:
                browser.get(base + page)
                name = "landing" if page == "index.html" else Path(page).stem
                path = out / f"{device}-{name}.png"
                assert browser.save_screenshot(str(path))
                assert path.stat().st_size > 10_000
                if device == "phone":
                    overflow = browser.execute_script(
                        "return document.documentElement.scrollWidth - window.innerWidth;"
                    )
                    assert overflow <= 1, f"{page} scrolls sideways by {overflow} px on a phone"
    finally:
        browser.set_window_size(*WIDTHS["desktop"])
