"""The HTML summaries in a real browser: headless Chromium, axe-core, no request outside.

Chromium is driven through the Chrome DevTools Protocol over `--remote-debugging-pipe`
(file descriptors 3 and 4, messages separated by NUL), so no Python package beyond the
standard library is needed. axe-core comes from `tests/browser/node_modules` (install with
`npm ci --prefix tests/browser`).

Each page is opened from disk (file://). The test fails on any axe violation of the WCAG
2.0, 2.1 and 2.2 A and AA rules, on any request for a URL outside the site folder, and on
any script error; it saves a full-page screenshot of every page it opens to
`$DID_SCREENSHOT_DIR` (default `output/screenshots`).
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

try:
    from test_site import sample_publication
except ImportError:  # tests/ imported as a package
    from tests.test_site import sample_publication

from publish.site import write_site

REPO = Path(__file__).resolve().parents[1]
AXE = REPO / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
INSTALL_CHROMIUM = (
    "Chromium is needed for the browser test: install it with\n"
    "  apt-get update && apt-get install -y chromium chromium-driver\n"
    "or point CHROMIUM_BIN at a Chromium/Chrome binary."
)
INSTALL_AXE = (
    f"axe-core is needed for the browser test ({AXE} is missing): install it with\n"
    "  npm ci --prefix tests/browser"
)
TIMEOUT = 30.0


def chromium_binary() -> str:
    for candidate in (
        os.environ.get("CHROMIUM_BIN", ""),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if candidate and (found := shutil.which(candidate)):
            return found
    pytest.fail(INSTALL_CHROMIUM, pytrace=False)


class Browser:
    """A headless Chromium and one page, spoken to over the DevTools pipe."""

    def __init__(self, binary: str, profile: Path, log: Path) -> None:
        # Chromium reads commands from fd 3 and writes replies and events to fd 4.
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_pipes() -> None:  # in the child, before exec
            # dup first to fresh numbers so that dup2 never copies a descriptor onto itself
            read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        args = [
            binary,
            "--headless",
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
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            close_fds=False,
            preexec_fn=wire_pipes,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session = ""
        target = self.send("Target.createTarget", {"url": "about:blank"}, browser=True)
        attached = self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, True
        )
        self.session = attached["sessionId"]
        for method in ("Page.enable", "Network.enable", "Runtime.enable"):
            self.send(method)
        # Every request of the page pauses here and is let through or refused.
        self.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
        self.allowed_root: Path | None = None
        self.requests: list[str] = []
        self.refused: list[str] = []

    # -- protocol -----------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer from Chromium")
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the pipe (exit {self.process.poll()})")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _handle_event(self, message: dict) -> None:
        method = message.get("method", "")
        params = message.get("params", {})
        if method == "Fetch.requestPaused":
            url = params["request"]["url"]
            if self._inside(url):
                self._post("Fetch.continueRequest", {"requestId": params["requestId"]})
            else:
                self.refused.append(url)
                self._post(
                    "Fetch.failRequest",
                    {"requestId": params["requestId"], "errorReason": "BlockedByClient"},
                )
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        self.events.append(message)

    def _post(self, method: str, params: dict | None = None, browser: bool = False) -> int:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session and not browser:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def send(self, method: str, params: dict | None = None, browser: bool = False) -> dict:
        ident = self._post(method, params, browser)
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._read_message(deadline)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._handle_event(message)

    def wait_for(self, method: str, timeout: float = TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = self._read_message(deadline)
            if "method" in message:
                self._handle_event(message)
                if message["method"] == method:
                    return message["params"]

    # -- page ---------------------------------------------------------------------------

    def _inside(self, url: str) -> bool:
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about"):
            return True  # made by the page itself, nothing fetched
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            return False
        path = Path(unquote(parsed.path)).resolve()
        return self.allowed_root is not None and path.is_relative_to(self.allowed_root)

    def open(self, path: Path, width: int = 1280, height: int = 900, javascript: bool = True):
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700},
        )
        self.send("Emulation.setScriptExecutionDisabled", {"value": not javascript})
        self.events.clear()
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str, await_promise: bool = False):
        result = self.send(
            "Runtime.evaluate",
            {
                "expression": expression,
                "awaitPromise": await_promise,
                "returnByValue": True,
                "timeout": TIMEOUT * 1000,
            },
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"script error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        found = []
        for event in self.events:
            if event.get("method") == "Runtime.exceptionThrown":
                found.append(json.dumps(event["params"]["exceptionDetails"])[:500])
            if event.get("method") == "Runtime.consoleAPICalled" and event["params"]["type"] in (
                "error",
                "assert",
            ):
                found.append(json.dumps(event["params"]["args"])[:500])
        return found

    def screenshot(self, target: Path) -> None:
        metrics = self.send("Page.getLayoutMetrics")
        size = metrics["cssContentSize"]
        shot = self.send(
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
        try:
            self._post("Browser.close", browser=True)
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)
            self._log.close()


@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    if not AXE.is_file():
        pytest.fail(INSTALL_AXE, pytrace=False)
    with tempfile.TemporaryDirectory(prefix="did-chromium-") as scratch:
        log = Path(scratch) / "chromium.log"
        try:
            instance = Browser(binary, Path(scratch) / "profile", log)
        except (RuntimeError, TimeoutError) as error:
            output = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"Chromium did not start: {error}\n{output}\n{INSTALL_CHROMIUM}")
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
    browser.evaluate(AXE.read_text(encoding="utf-8"))
    options = json.dumps({"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    script = (
        f"axe.run(document, {options}).then(r => r.violations.map(v => ({{"
        "id: v.id, impact: v.impact, help: v.help, tags: v.tags,"
        "nodes: v.nodes.slice(0, 5).map(n => ({target: n.target, summary: n.failureSummary}))"
        "})))"
    )
    return browser.evaluate(script, await_promise=True)


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
    header = browser.evaluate("getComputedStyle(document.querySelector('.header')).backgroundColor")
    assert header == "rgb(0, 94, 184)", header
    broken = browser.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert not broken, broken
    browser.screenshot(screenshots / f"{name}.png")
    violations = run_axe(browser)
    assert not violations, json.dumps(violations, indent=1)
    outside = [url for url in browser.requests if not browser._inside(url)]
    assert not outside and not browser.refused, (outside, browser.refused)
    assert browser.requests, "no request seen: the request check is not working"
    assert not browser.errors(), browser.errors()
    dialogs = [e for e in browser.events if e.get("method") == "Page.javascriptDialogOpening"]
    assert not dialogs, dialogs  # an unescaped '<script>alert(1)</script>' would open one
    assert browser.evaluate("[...document.scripts].every(s => !s.textContent.includes('alert('))")


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
    browser.evaluate(
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
    browser.evaluate(
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
    time.sleep(0.2)
    browser.evaluate("1")  # drain pending events
    refused = set(browser.refused)
    assert outside.resolve().as_uri() in refused
    assert "https://cdn.example.invalid/x.css" in refused
