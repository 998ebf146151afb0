"""End to end: the real service under uvicorn on a loopback port, the chat widget in headless Chromium (Playwright)
and Firefox ESR (Marionette). The fake embedder stands in for MiniLM: these tests are about the widget."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright import sync_api as playwright_api

from api.app import create_app
from core.settings import Settings
from qa.service import QAService

from conftest import LiveServer, indexed_settings, papers_with_pack
from pdfs import FILLER, PageSpec, make_pdf, wrap

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SCRIPT_TEXT = (
    "Residents reported that the booking form showed <script>window.__pwned = 1</script> and "
    '<img src=x onerror="window.__pwned = 2"> instead of the Parish Hall prices for 2027.'
)


def _script_paper(path: Path) -> Path:
    lines = ["Parish Hall Booking Report", *wrap(SCRIPT_TEXT + " " + FILLER)]
    return make_pdf(
        path, [PageSpec(lines, footer="Page 1")], title='<b onmouseover="window.__pwned = 3">Hall</b> report'
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory, sample_pack_pdf, fake_embedder) -> tuple[Settings, QAService]:
    papers = papers_with_pack(tmp_path_factory.mktemp("browser-papers"), sample_pack_pdf)
    _script_paper(papers / "hall <script>.pdf")
    settings = indexed_settings(tmp_path_factory.mktemp("browser-data"), [papers], fake_embedder)
    return settings, QAService(settings, embedder=fake_embedder)


@pytest.fixture(scope="module")
def open_server(service) -> Iterator[LiveServer]:
    """The service with no keys, as on a closed intranet: the demo page at / works as it is."""
    settings, qa = service
    with LiveServer(create_app(settings, qa)) as server:
        yield server


@pytest.fixture(scope="module")
def intranet_site(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """Another intranet site (its own origin, on loopback like an intranet host) and the folder it serves."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    folder = tmp_path_factory.mktemp("intranet")
    site = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield f"http://localhost:{site.server_address[1]}", folder
    site.shutdown()


@pytest.fixture(scope="module")
def keyed_server(service, intranet_site) -> Iterator[LiveServer]:
    """The same index behind API keys, admitting the intranet site by CORS."""
    settings, qa = service
    keyed = settings.model_copy(deep=True)
    keyed.api.keys = {"reader-key": "reader"}
    keyed.api.cors_origins = [intranet_site[0]]
    with LiveServer(create_app(keyed, qa)) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Debian's chromium is not installed: run `bash scripts/install.sh --browser` (as root, or with sudo)"
        )
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh page that records script errors and dialogs (any alert would mean document text ran as code)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
    page.on(
        "console", lambda message: page.problems.append(f"console: {message.text}") if message.type == "error" else None
    )
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def _ask(page, question: str) -> None:
    page.get_by_role("button", name="Ask the papers").click()
    box = page.get_by_label("Your question about the committee papers")
    box.fill(question)
    box.press("Enter")


def test_demo_page_asks_streams_and_opens_the_highlighted_page(open_server, page):
    streamed = []
    page.on(
        "response",
        lambda r: streamed.append(r.headers.get("content-type", "")) if r.url.endswith("/ask/stream") else None,
    )
    page.goto(open_server.url + "/")
    _ask(page, "What did we decide about Grangewaters?")

    first = page.locator(".cpqa-cite").first
    first.wait_for(timeout=30_000)
    assert streamed and streamed[0].startswith("text/event-stream")
    assert "Grangewaters" in page.locator(".cpqa-a").inner_text()
    label = first.inner_text()
    assert label.startswith("[1] “") and "meeting of 10 January 2023" in label and "page 14" in label

    with page.expect_response(lambda r: ".png?quote=" in r.url) as image_response:
        first.click()
    assert image_response.value.status == 200 and image_response.value.headers["content-type"] == "image/png"
    image = page.locator(".cpqa-dialog img")
    image.wait_for(state="visible")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "with the quote highlighted" in image.get_attribute("alt")
    pdf = page.get_by_role("link", name="Open the PDF at this page")
    assert pdf.get_attribute("href").endswith("/file#page=4")
    assert httpx.get(pdf.get_attribute("href").split("#")[0]).content.startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "highlighted-page.png"))
    assert page.problems == []


def test_abstention_is_shown_plainly(open_server, page):
    page.goto(open_server.url + "/")
    _ask(page, "What is the population of Paris?")
    notice = page.locator(".cpqa-abstain")
    notice.wait_for(timeout=30_000)
    assert notice.inner_text().startswith("The papers don't answer this.")
    shown, log = notice.bounding_box(), page.locator(".cpqa-log").bounding_box()
    assert log["y"] <= shown["y"] < log["y"] + log["height"]  # scrolled into view, not left above the see-also list
    assert page.problems == []


def test_script_in_a_pdf_shows_as_text_and_never_runs(open_server, page):
    page.goto(open_server.url + "/")
    _ask(page, "What did residents report about the booking form for the Parish Hall prices?")
    cite = page.locator(".cpqa-cite").first
    cite.wait_for(timeout=30_000)
    shown = page.locator(".cpqa").inner_text()
    assert "<script>window.__pwned = 1</script>" in shown or '<img src=x onerror="window.__pwned = 2">' in shown
    cite.click()
    page.locator(".cpqa-dialog img").wait_for(state="visible")
    assert '<b onmouseover="window.__pwned = 3">Hall</b>' in page.locator(".cpqa-dialog").inner_text()
    page.mouse.move(10, 10)
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".cpqa script, .cpqa img, .cpqa b, .cpqa-dialog b").count() == 0
    assert page.problems == []


def test_openapi_docs_render_with_no_internet(open_server, page):
    """The intranet may have no internet: /docs must render from the service's own assets."""
    outside = []
    page.route(
        lambda url: not url.startswith(open_server.url),
        lambda route: (outside.append(route.request.url), route.abort()),
    )
    page.goto(open_server.url + "/docs")
    page.locator(".opblock-summary-path", has_text="/ask/stream").wait_for(timeout=30_000)
    assert outside == [] and page.problems == []


def test_keyboard_only_on_a_narrow_screen(open_server, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(open_server.url + "/")
        toggle = page.get_by_role("button", name="Ask the papers")
        toggle.focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "cpqa-question"
        page.keyboard.type("What did we decide about Grangewaters?")
        page.keyboard.press("Enter")
        cite = page.locator(".cpqa-cite").first
        cite.wait_for(timeout=30_000)

        panel = page.get_by_role("dialog", name="Ask about committee papers").bounding_box()
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 360 and panel["y"] >= 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling

        cite.focus()
        page.keyboard.press("Enter")
        page.locator(".cpqa-dialog img").wait_for(state="visible")
        assert page.evaluate("document.activeElement.textContent") == "Close"
        box = page.locator(".cpqa-dialog").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "narrow-screen-page.png"))
        page.keyboard.press("Escape")
        assert not page.locator(".cpqa-dialog").is_visible()
        page.keyboard.press("Escape")  # and Escape again closes the panel, back to its button
        assert page.locator(".cpqa-panel").is_hidden()
        assert page.evaluate("document.activeElement.textContent") == "Ask the papers"
    finally:
        context.close()


def test_one_script_tag_on_another_intranet_site_with_a_key(keyed_server, intranet_site, page):
    origin, folder = intranet_site
    (folder / "members.html").write_text(
        '<!doctype html><html lang="en"><head><title>Intranet</title><link rel="icon" href="data:,"></head>'
        "<body><h1>Members area</h1>"
        f'<script src="{keyed_server.url}/widget.js" data-key="reader-key" defer></script></body></html>'
    )
    page.goto(origin + "/members.html")
    page.wait_for_load_state("load")
    assert page.problems == []
    _ask(page, "What did we decide about Grangewaters?")
    first = page.locator(".cpqa-cite").first
    first.wait_for(timeout=30_000)
    assert page.problems == []
    first.click()
    image = page.locator(".cpqa-dialog img")
    image.wait_for(state="visible")  # fetched with the key, shown from a blob: URL
    assert image.get_attribute("src").startswith("blob:") and image.evaluate("img => img.naturalWidth > 0")
    # The key is what admits it: the same request without one is refused.
    assert httpx.post(keyed_server.url + "/ask", json={"question": "Grangewaters"}).status_code == 401
    assert page.problems == []


class FailingAnswerer:
    """An answerer that breaks after retrieval has run: the failure arrives mid-stream, after `started`."""

    def answer(self, retrieval, citations):
        raise RuntimeError("the answerer fell over")


def test_a_failure_mid_stream_is_shown_and_the_widget_recovers(service, page):
    settings, qa = service
    broken = QAService(settings, embedder=qa.embedder, llm_answerer=FailingAnswerer())
    with LiveServer(create_app(settings, broken)) as server:
        page.goto(server.url + "/")
        _ask(page, "What did we decide about Grangewaters?")
        failed = page.locator(".cpqa-turn .cpqa-a.cpqa-failed")
        failed.wait_for(timeout=30_000)
        assert failed.inner_text().startswith("Sorry, that failed: internal error")
        assert "Answering" not in page.locator(".cpqa-status").inner_text()  # not left waiting on a cut stream
        assert "the answerer fell over" not in page.locator(".cpqa").inner_text()  # details stay in the server's log
        assert page.locator(".cpqa-form button[type=submit]").is_enabled()
        assert page.locator(".cpqa-log").get_attribute("aria-busy") == "false"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "stream-failure.png"))


# Firefox: Debian's firefox-esr, driven through its own Marionette protocol (Playwright needs a patched Firefox
# that cannot be downloaded here). The same widget, the same server.


@pytest.fixture(scope="module")
def firefox():
    from marionette_driver.marionette import Marionette

    executable = shutil.which("firefox-esr") or shutil.which("firefox")
    if executable is None:
        pytest.fail(
            "Debian's firefox-esr is not installed: run `bash scripts/install.sh --browser` (as root, or with sudo)"
        )
    ARTIFACTS.mkdir(exist_ok=True)
    client = Marionette(bin=executable, headless=True, port=0, gecko_log=str(ARTIFACTS / "gecko.log"))
    client.start_session()
    try:
        yield client
    finally:
        client.delete_session()
        client.cleanup()


def _until(client, script: str, timeout_s: float = 30):
    """Poll a JavaScript expression in the page until it is truthy; its value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = client.execute_script(f"return {script};")
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"still false after {timeout_s} s: {script}")


def _firefox_ask(client, url: str, question: str) -> None:
    from marionette_driver.by import By
    from marionette_driver.keys import Keys

    client.navigate(url)
    _until(client, "document.querySelector('.cpqa-toggle')")
    client.find_element(By.CSS_SELECTOR, ".cpqa-toggle").click()
    box = client.find_element(By.ID, "cpqa-question")
    box.send_keys(question)
    box.send_keys(Keys.ENTER)


def test_firefox_asks_cites_and_opens_the_highlighted_page(open_server, firefox):
    from marionette_driver.by import By

    _firefox_ask(firefox, open_server.url + "/", "What did we decide about Grangewaters?")
    label = _until(firefox, "document.querySelector('.cpqa-cite') && document.querySelector('.cpqa-cite').textContent")
    assert "meeting of 10 January 2023" in label and "page 14" in label
    assert "Grangewaters" in firefox.find_element(By.CSS_SELECTOR, ".cpqa-a").text
    firefox.find_element(By.CSS_SELECTOR, ".cpqa-cite").click()
    _until(
        firefox,
        "(() => { const i = document.querySelector('.cpqa-dialog img'); "
        "return i && !i.hidden && i.naturalWidth > 0; })()",
    )
    assert firefox.execute_script("return document.querySelector('.cpqa-dialog').open") is True
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "firefox-highlighted-page.png").write_bytes(firefox.screenshot(format="binary"))


def test_firefox_shows_script_in_a_pdf_as_text(open_server, firefox):
    _firefox_ask(
        firefox, open_server.url + "/", "What did residents report about the booking form for the Parish Hall prices?"
    )
    _until(firefox, "document.querySelector('.cpqa-cite')")
    shown = firefox.execute_script("return document.querySelector('.cpqa').textContent")
    assert "<script>window.__pwned = 1</script>" in shown or 'onerror="window.__pwned = 2"' in shown
    assert firefox.execute_script(
        "return window.__pwned === undefined && !document.querySelector('.cpqa script, .cpqa img')"
    )
