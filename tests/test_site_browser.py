"""The HTML summaries in a real browser: headless Chromium driven by Selenium through
Debian's `chromium-driver`, axe-core, no request outside.

Selenium starts `/usr/bin/chromedriver` (or `$CHROMEDRIVER`) with Debian's Chromium, so
Selenium Manager never downloads a driver or a browser. axe-core comes from
`tests/browser/node_modules` (install with `npm ci --prefix tests/browser`).

Each page is opened from disk (file://). The test fails on any axe violation of the WCAG
2.0, 2.1 and 2.2 A and AA rules, on any request for a URL outside the site folder (every
request the page makes is read from Chromium's network log; web requests are refused
and no name resolves, so nothing could leave the machine), and on any script error; it
saves a full-page screenshot of every page it opens to `$DID_SCREENSHOT_DIR` (default
`output/screenshots`).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

try:
    from test_site import sample_publication
except ImportError:  # tests/ imported as a package
    from tests.test_site import sample_publication

from publish.render.site import write_site

REPO = Path(__file__).resolve().parents[1]
AXE = REPO / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
INSTALL_CHROMIUM = (
    "Chromium and its driver are needed for the browser test: install them with\n"
    "  apt-get update && apt-get install -y chromium chromium-driver\n"
    "or point CHROMIUM_BIN and CHROMEDRIVER at a Chromium binary and its chromedriver."
)
INSTALL_AXE = (
    f"axe-core is needed for the browser test ({AXE} is missing): install it with\n"
    "  npm ci --prefix tests/browser"
)
TIMEOUT = 30.0


def found(names: tuple[str, ...]) -> str:
    for candidate in names:
        if candidate and (path := shutil.which(candidate)):
            return path
    pytest.fail(INSTALL_CHROMIUM, pytrace=False)


class Browser:
    """A headless Chromium and one page, driven by Selenium (WebDriver), with the
    DevTools commands WebDriver lacks (emulation, full-page screenshots) sent through
    chromedriver."""

    def __init__(self, binary: str, driver: str) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
            "--font-render-hinting=none",
            # no name resolves: nothing could leave the machine even if a page asked
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        options.set_capability("unhandledPromptBehavior", "ignore")
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=driver))
        self.driver.set_script_timeout(TIMEOUT)
        self.driver.set_page_load_timeout(TIMEOUT)
        self.driver.execute_cdp_cmd("Network.enable", {})
        # Refused outright: anything from the web (the page is read from disk).
        patterns = ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]
        self.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": patterns})
        self.allowed_root: Path | None = None
        self.requests: list[str] = []
        self.refused: list[str] = []
        self._errors: list[str] = []
        self._urls: dict[str, str] = {}

    def _inside(self, url: str) -> bool:
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about"):
            return True  # made by the page itself, nothing fetched
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            return False
        path = Path(unquote(parsed.path)).resolve()
        return self.allowed_root is not None and path.is_relative_to(self.allowed_root)

    def _read_logs(self) -> None:
        """The network log (every request, and those refused) and the console's errors."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.requestWillBeSent":
                self.requests.append(params["request"]["url"])
                self._urls[params["requestId"]] = params["request"]["url"]
            elif message["method"] == "Network.loadingFailed" and params.get("blockedReason"):
                self.refused.append(self._urls.get(params["requestId"], "?"))
        for entry in self.driver.get_log("browser"):
            if entry["level"] == "SEVERE":
                self._errors.append(entry["message"][:1500])

    def open(self, path: Path, width: int = 1280, height: int = 900, javascript: bool = True):
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700},
        )
        self.driver.execute_cdp_cmd(
            "Emulation.setScriptExecutionDisabled", {"value": not javascript}
        )
        self._read_logs()  # what came before this page is not this page's
        self.requests.clear()
        self.refused.clear()
        self._errors.clear()
        self.driver.get(path.resolve().as_uri())

    def evaluate(self, expression: str):
        return self.driver.execute_script(f"return ({expression});")

    def run(self, statements: str) -> None:
        self.driver.execute_script(statements)

    def outside_requests(self) -> list[str]:
        self._read_logs()
        return [url for url in self.requests if not self._inside(url)]

    def errors(self) -> list[str]:
        self._read_logs()
        return list(self._errors)

    def dialog_opened(self) -> bool:
        try:
            self.driver.switch_to.alert.dismiss()
        except NoAlertPresentException:
            return False
        return True

    def screenshot(self, target: Path) -> None:
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics["cssContentSize"]
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {
                    "x": 0,
                    "y": 0,
                    "width": size["width"],
                    "height": min(size["height"], 12000),
                    "scale": 1,
                },
            },
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.driver.quit()


@pytest.fixture(scope="module")
def browser():
    binary = found((os.environ.get("CHROMIUM_BIN", ""), "chromium", "chromium-browser"))
    driver = found((os.environ.get("CHROMEDRIVER", ""), "chromedriver"))
    if not AXE.is_file():
        pytest.fail(INSTALL_AXE, pytrace=False)
    try:
        instance = Browser(binary, driver)
    except WebDriverException as error:
        pytest.fail(f"Chromium did not start: {error.msg}\n{INSTALL_CHROMIUM}")
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser-pub") / "html"
    write_site(sample_publication(), out)
    return out


@pytest.fixture(scope="module")
def screenshots() -> Path:
    folder = Path(os.environ.get("DID_SCREENSHOT_DIR", REPO / "output" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_axe(browser: Browser) -> list[dict]:
    browser.run(AXE.read_text(encoding="utf-8"))
    options = json.dumps({"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    script = (
        "const done = arguments[arguments.length - 1];"
        f"axe.run(document, {options}).then(r => done(r.violations.map(v => ({{"
        "id: v.id, impact: v.impact, help: v.help, tags: v.tags,"
        "nodes: v.nodes.slice(0, 5).map(n => ({target: n.target, summary: n.failureSummary}))"
        "}))))"
    )
    return browser.driver.execute_async_script(script)


PAGES = {
    "index": "index.html",
    "table-1": "tables/table-1.html",
    "table-11": "tables/table-11.html",
    "table-1-region": "tables/table-1-y56.html",
    "provider": "providers/y56-rbb.html",
    "modality": "modalities/magnetic-resonance-imaging.html",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_accessible_and_self_contained(browser, site, screenshots, name):
    browser.allowed_root = site.resolve()
    browser.requests.clear()
    browser.refused.clear()
    browser.open(site / PAGES[name])
    assert browser.evaluate("document.readyState") == "complete"
    # the page's own assets loaded (stylesheet applied: header is NHS blue)
    header = browser.evaluate(
        "getComputedStyle(document.querySelector('.nhsuk-header')).backgroundColor"
    )
    assert header == "rgb(0, 94, 184)", header
    broken = browser.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert not broken, broken
    # at 1280 px nothing overflows the page: a wide table scrolls in its own box
    assert browser.evaluate("document.documentElement.scrollWidth") <= 1280
    browser.screenshot(screenshots / f"{name}.png")
    # the page's own errors, before axe (which reads the stylesheets by XMLHttpRequest,
    # refused from file://: its console lines are not the page's)
    page_errors = browser.errors()
    assert not page_errors, page_errors
    outside = browser.outside_requests()
    assert not outside and not browser.refused, (outside, browser.refused)
    assert browser.requests, "no request seen: the request check is not working"
    violations = run_axe(browser)
    assert not violations, json.dumps(violations, indent=1)
    assert not browser.dialog_opened()  # an unescaped '<script>alert(1)</script>' would open one
    assert browser.evaluate("[...document.scripts].every(s => !s.textContent.includes('alert('))")


def assert_headings_are_column_and_row_headers(browser: Browser) -> None:
    """The open page's tables: each heading of a head row is exposed as a column header
    and each heading of a body row (a rowspan included) as a row header."""
    head = browser.driver.find_elements(By.CSS_SELECTOR, "table thead th")
    body = browser.driver.find_elements(By.CSS_SELECTOR, "table tbody th")
    assert head and body
    assert {heading.aria_role for heading in head} == {"columnheader"}
    assert {heading.aria_role for heading in body} == {"rowheader"}


@pytest.mark.parametrize("name", [name for name in PAGES if name != "index"])
def test_table_headings_are_column_and_row_headers(browser, site, name):
    """The tables' headings carry no scope attribute (templates/site/_macros.html): the
    browser's own table model must still expose them as column and row headers, as a
    screen reader reads them out with every cell."""
    browser.allowed_root = site.resolve()
    browser.open(site / PAGES[name])
    assert_headings_are_column_and_row_headers(browser)


def test_provider_filter(browser, site, screenshots):
    browser.allowed_root = site.resolve()
    # without JavaScript: the full list of links, no (useless) input
    browser.open(site / "index.html", javascript=False)
    assert browser.evaluate("document.querySelector('#provider-filter-input').offsetParent") is None
    assert browser.evaluate("document.querySelectorAll('.provider-list a').length") == 3
    # with JavaScript: typing narrows the list
    browser.open(site / "index.html")
    assert browser.evaluate("!!document.querySelector('#provider-filter-input').offsetParent")
    visible = "[...document.querySelectorAll('.provider-list li')].filter(li => !li.hidden).length"
    browser.run(
        "const i = document.querySelector('#provider-filter-input');"
        "i.value = 'cedar'; i.dispatchEvent(new Event('input'));"
    )
    assert browser.evaluate(visible) == 1
    assert (
        browser.evaluate(
            "[...document.querySelectorAll('.provider-filter__group')].filter(g => !g.hidden).length"
        )
        == 1
    )
    browser.run(
        "const j = document.querySelector('#provider-filter-input');"
        "j.value = ''; j.dispatchEvent(new Event('input'));"
    )
    assert browser.evaluate(visible) == 3
    # narrow screen: content reflows (WCAG 1.4.10), screenshot for review
    browser.open(site / "index.html", width=360, height=740)
    assert browser.evaluate("document.documentElement.scrollWidth <= 360 + 1")
    browser.screenshot(screenshots / "index-narrow.png")
    assert not browser.errors(), browser.errors()


def test_request_check_catches_outside_requests(browser, tmp_path):
    """The guard itself: a page asking for the web and for a file elsewhere is caught."""
    site = tmp_path / "html"
    site.mkdir()
    outside = tmp_path / "outside.css"
    outside.write_text("body{}")
    (site / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>t</title>'
        '<link rel="stylesheet" href="../outside.css">'
        '<link rel="stylesheet" href="https://cdn.example.invalid/x.css"></head>'
        "<body><p>t</p></body></html>"
    )
    browser.allowed_root = site.resolve()
    browser.requests.clear()
    browser.refused.clear()
    browser.open(site / "index.html")
    seen = set(browser.outside_requests())
    assert outside.resolve().as_uri() in seen
    assert "https://cdn.example.invalid/x.css" in seen
    assert "https://cdn.example.invalid/x.css" in browser.refused  # never sent


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A real build of a few records: its quality report is in the site's layout."""
    from tests.conftest import build, record, write_submission

    folder = tmp_path_factory.mktemp("browser-build")
    may = {
        "DIAGNOSTIC_TEST_REQUEST_DATE": "2024-05-01",
        "DIAG_TEST_REQUEST_REC_DATE": "2024-05-01",
        "DIAGNOSTIC_TEST_DATE": "2024-05-09",
        "SERVICE_REPORT_DATE": "2024-05-10",
    }
    records = [record() for _ in range(9)] + [record(**may) for _ in range(14)]
    write_submission(folder / "in" / "a.csv", records)
    build([folder / "in"], folder / "out", "--submission-date", "2024-07-05")
    return folder / "out" / "did-2024-25-provisional-2024-05"


BUILT_PAGES = {
    "quality": "quality/index.html",
    # the report's table by provider and month, a region's page; the files' page
    "quality-region": "quality/by-provider-y56.html",
    "quality-files": "quality/files.html",
    "built-index": "html/index.html",
    "trend": "html/modalities/plain-radiography.html",
    # tables 7a and 8 (by commissioner), a commissioner's page and the list of them: the
    # records' practice B86001 is not in the shipped practices, so "Unknown"
    "table-7a": "html/tables/table-7a.html",
    "table-8": "html/tables/table-8.html",
    "commissioners": "html/commissioners/index.html",
    "commissioner": "html/commissioners/unnamed-unknown.html",
    "table-13": "html/tables/table-13.html",
}


@pytest.mark.parametrize("name", [name for name in BUILT_PAGES if name.startswith("quality")])
def test_quality_report_headings_are_column_and_row_headers(browser, built, name):
    """The quality report's tables (templates/quality_macros.html) carry no scope
    attribute either: the same roles."""
    browser.allowed_root = built.resolve()
    browser.open(built / BUILT_PAGES[name])
    assert_headings_are_column_and_row_headers(browser)


@pytest.mark.parametrize("name", list(BUILT_PAGES))
def test_a_built_publications_new_pages_are_accessible(browser, built, screenshots, name):
    browser.allowed_root = built.resolve()
    browser.open(built / BUILT_PAGES[name])
    header = browser.evaluate(
        "getComputedStyle(document.querySelector('.nhsuk-header')).backgroundColor"
    )
    assert header == "rgb(0, 94, 184)", header  # the site's layout and stylesheet
    assert browser.evaluate("document.documentElement.scrollWidth") <= 1280
    browser.screenshot(screenshots / f"{name}.png")
    assert not browser.errors(), browser.errors()
    assert not browser.outside_requests()
    if name == "trend":
        chart = browser.driver.find_element("css selector", "figure.chart-figure")
        (screenshots / "trend-chart.png").write_bytes(chart.screenshot_as_png)
        assert browser.evaluate("document.querySelector('#trend-chart-desc').textContent")
    violations = run_axe(browser)
    assert not violations, json.dumps(violations, indent=1)
