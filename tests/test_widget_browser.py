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
from pdfs import FILLER, PageSpec, make_pdf, small_pack, wrap

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
    small_pack(
        papers / "march-2023.pdf",
        "Children's Services Overview and Scrutiny Committee",
        "14 March 2023",
        "Foster Carer Approvals",
        ["Foster carer approvals rose sharply in 2022/23 because of the new recruitment campaign."],
    )
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
    keyed.api.keys = {"reader-key": "reader", "editor-key": "editor"}
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


SIZES = {"wide": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 740}}


@pytest.fixture(params=list(SIZES))
def size(request) -> str:
    return request.param


@pytest.fixture
def page(browser, request, size):
    """A fresh page at 1280x800 or 375x740 that records script errors and dialogs (any alert would mean document
    text ran as code); a screenshot of how it ended is kept as a test artifact."""
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
    page.on(
        "console", lambda message: page.problems.append(f"console: {message.text}") if message.type == "error" else None
    )
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()


def _ask(page, question: str) -> None:
    if not page.get_by_label("Your question about the committee papers").is_visible():
        page.get_by_role("button", name="Ask the papers").click()
    box = page.get_by_label("Your question about the committee papers")
    box.fill(question)
    box.press("Enter")


def _accessible(page, what: str) -> None:
    """axe-core (bundled by axe-playwright-python, injected here: no CDN) finds no violation on the page as it is."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"


def _in_view(page, locator) -> bool:
    """Whether the element is inside the visible part of its scrolling container and of the window."""
    return locator.evaluate(
        """e => { const r = e.getBoundingClientRect(); let p = e.parentElement;
                  while (p && getComputedStyle(p).overflowY === 'visible') p = p.parentElement;
                  const c = p ? p.getBoundingClientRect() : {top: 0, bottom: innerHeight};
                  return r.bottom > c.top && r.top < c.bottom && r.top < innerHeight && r.bottom > 0; }"""
    )


def test_the_answer_comes_first_with_chips_that_open_the_page_at_the_quote(open_server, page, size):
    streamed = []
    page.on(
        "response",
        lambda r: streamed.append(r.headers.get("content-type", "")) if r.url.endswith("/ask/stream") else None,
    )
    page.goto(open_server.url + "/")
    page.get_by_role("button", name="Ask the papers").click()
    page.locator(".cpqa-starter").first.wait_for(timeout=10_000)  # starter questions drawn from the papers
    _accessible(page, "the open widget")
    _ask(page, "What did we decide about Grangewaters?")

    lead = page.locator(".cpqa-lead").first
    lead.wait_for(timeout=30_000)
    assert streamed and streamed[0].startswith("text/event-stream")
    assert "Grangewaters" in page.locator(".cpqa-a").first.inner_text()
    chip = page.locator(".cpqa-chip").first
    assert chip.inner_text() == "1" and "page 14" in chip.get_attribute("aria-label")
    # A decision answer reads as a timeline: a status badge per decision, its meeting, its words and its chip.
    badges = page.locator(".cpqa-timeline .cpqa-badge")
    assert badges.all_inner_texts() == ["noted", "resolved", "not agreed"]
    assert "10 January 2023" in page.locator(".cpqa-tl-head").first.inner_text()
    # The sources below: document, meeting date, page; the quote only when the card is opened.
    card = page.locator(".cpqa-card").first
    assert "meeting of 10 January 2023" in card.inner_text() and "page 14" in card.inner_text()
    assert card.locator("blockquote").is_hidden()
    card.locator(".cpqa-card-head").click()
    assert card.locator("blockquote").is_visible()
    assert page.locator(".cpqa-user .cpqa-q").inner_text() == "What did we decide about Grangewaters?"
    _accessible(page, "an answer")

    with page.expect_response(lambda r: ".png?quote=" in r.url) as image_response:
        chip.click()
    response = image_response.value
    assert response.status == 200 and response.headers["content-type"] == "image/png" and "/pages/4.png" in response.url
    image = page.locator(".cpqa-scroller img")
    image.wait_for(state="visible")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "with the quote highlighted" in image.get_attribute("alt")
    # Opened at the highlight: its band of the page is inside the visible part of the viewer.
    top, bottom = (float(x) for x in response.headers["x-highlight"].split(",")[:2])
    seen = page.locator(".cpqa-scroller").evaluate(
        "s => { const i = s.querySelector('img'); return [s.scrollTop / i.offsetHeight, "
        "(s.scrollTop + s.clientHeight) / i.offsetHeight]; }"
    )
    assert seen[0] <= top and bottom <= seen[1] + 0.02
    pdf = page.get_by_role("link", name="Open the PDF at this page")
    assert pdf.get_attribute("href").endswith("/file#page=4")
    assert httpx.get(pdf.get_attribute("href").split("#")[0]).content.startswith(b"%PDF")
    _accessible(page, "the page viewer")
    # Zoom, then the next page, then close from the top.
    width = image.evaluate("i => i.offsetWidth")
    page.get_by_role("button", name="Zoom in").click()
    assert image.evaluate("i => i.offsetWidth") > 1.4 * width
    close = page.get_by_role("button", name="Close the page")
    assert close.bounding_box()["y"] < 80  # at the top, not under the page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"page-viewer-{size}.png"))
    close.click()
    assert not page.locator(".cpqa-viewer").is_visible()
    assert page.problems == []


def test_partial_answers_and_abstentions_look_different_from_answers(open_server, page):
    page.goto(open_server.url + "/")
    _ask(page, "How much did foster carer approvals rise in 2019/20?")
    partial = page.locator(".cpqa-partial")
    partial.wait_for(timeout=30_000)
    assert partial.inner_text().startswith("The papers don't give 2019/20.")
    assert "2022/23" in page.locator(".cpqa-lead").inner_text()
    _ask(page, "What is the population of Paris?")
    notice = page.locator(".cpqa-abstain")
    notice.wait_for(timeout=30_000)
    assert notice.inner_text().startswith("The papers don't answer this.")
    nearest = page.locator(".cpqa-nearest")
    if nearest.count():
        assert nearest.locator("h3").inner_text().lower().startswith("nearest passages (not an answer)")
        assert nearest.locator(".cpqa-card-nearest").count() >= 1 and nearest.locator(".cpqa-chip").count() == 0
    assert _in_view(page, notice)
    _accessible(page, "an abstention")
    assert page.problems == []


def test_a_new_question_cancels_the_stream_of_the_last(open_server, page):
    page.goto(open_server.url + "/")
    page.get_by_role("button", name="Ask the papers").click()
    page.evaluate(
        "() => { CouncilPapersQA.ask('What did we decide about Grangewaters?'); "
        "CouncilPapersQA.ask('What did residents report about the booking form?'); }"
    )
    page.locator(".cpqa-stopped").wait_for(timeout=10_000)
    assert page.locator(".cpqa-bot").first.inner_text() == "Stopped: you asked another question."
    page.locator(".cpqa-bot").nth(1).locator(".cpqa-lead, .cpqa-abstain").first.wait_for(timeout=30_000)
    assert page.locator(".cpqa-failed").count() == 0 and page.problems == []


def test_script_in_a_pdf_shows_as_text_and_never_runs(open_server, page):
    page.goto(open_server.url + "/")
    _ask(page, "What did residents report about the booking form for the Parish Hall prices?")
    chip = page.locator(".cpqa-chip").first
    chip.wait_for(timeout=30_000)
    page.locator(".cpqa-show-more").click() if page.locator(".cpqa-show-more").count() else None
    for head in page.locator(".cpqa-card-head").all():
        head.click()
    shown = page.locator(".cpqa").inner_text()
    assert "<script>window.__pwned = 1</script>" in shown or '<img src=x onerror="window.__pwned = 2">' in shown
    chip.click()
    page.locator(".cpqa-scroller img").wait_for(state="visible")
    title = '<b onmouseover="window.__pwned = 3">Hall</b> report'  # the document's title, as its PDF gives it
    assert title in shown and page.locator(".cpqa-viewer-title").get_attribute("title") == title
    page.mouse.move(10, 10)
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".cpqa script, .cpqa img, .cpqa b, .cpqa-viewer b, .cpqa-viewer script").count() == 0
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


def test_keyboard_only_and_a_full_screen_sheet_on_a_phone(open_server, browser):
    context = browser.new_context(viewport=SIZES["phone"])
    page = context.new_page()
    try:
        page.goto(open_server.url + "/")
        toggle = page.get_by_role("button", name="Ask the papers")
        toggle.focus()
        page.keyboard.press("Enter")
        box = page.get_by_label("Your question about the committee papers")
        assert box.evaluate("e => e.getRootNode().activeElement === e")
        panel = page.get_by_role("dialog", name="Ask the committee papers").bounding_box()
        assert (panel["x"], panel["y"], panel["width"], panel["height"]) == (0, 0, 375, 740)  # a full-screen sheet
        assert not toggle.is_visible()  # the launcher hides while it is open
        placeholder = box.get_attribute("placeholder")
        assert box.evaluate(
            "(e, t) => { const c = document.createElement('canvas').getContext('2d'); "
            "c.font = getComputedStyle(e).font; return c.measureText(t).width < e.clientWidth; }",
            placeholder,
        )  # the placeholder is not cut off
        page.keyboard.type("What did we decide about Grangewaters?")
        page.keyboard.press("Enter")
        chip = page.locator(".cpqa-chip").first
        chip.wait_for(timeout=30_000)
        assert box.evaluate("e => e.getRootNode().activeElement === e")  # focus stays in the widget after asking
        assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling

        chip.focus()
        page.keyboard.press("Enter")
        page.locator(".cpqa-scroller img").wait_for(state="visible")
        assert page.locator(".cpqa-viewer").evaluate(
            "v => v.getRootNode().activeElement.getAttribute('aria-label')"
        ) == ("Close the page")
        box_ = page.locator(".cpqa-viewer").bounding_box()
        assert box_["x"] >= 0 and box_["x"] + box_["width"] <= 375
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "phone-page-viewer.png"))
        page.keyboard.press("Escape")
        assert not page.locator(".cpqa-viewer").is_visible()
        assert chip.evaluate("e => e.getRootNode().activeElement === e")  # back to the chip that opened it
        page.keyboard.press("Escape")  # and Escape again closes the panel, back to its button
        assert page.locator(".cpqa-panel").is_hidden()
        assert toggle.evaluate("e => e.getRootNode().activeElement === e")
    finally:
        context.close()


def test_hostile_host_css_and_a_second_script_tag_leave_one_working_widget(keyed_server, intranet_site, page):
    origin, folder = intranet_site
    (folder / "hostile.html").write_text(
        '<!doctype html><html lang="en"><head><title>Intranet</title><link rel="icon" href="data:,">'
        "<style>* { all: unset } button { display: none } div { color: red; font-size: 40px }</style></head>"
        "<body><main><h1>Members area</h1></main>"
        f'<script src="{keyed_server.url}/widget.js" data-key="reader-key"></script>'
        f'<script src="{keyed_server.url}/widget.js" data-key="reader-key"></script>'
        "</body></html>"
    )
    page.goto(origin + "/hostile.html")
    page.wait_for_load_state("load")
    assert page.evaluate("document.querySelectorAll('[data-cpqa]').length") == 1
    _ask(page, "What did we decide about Grangewaters?")
    chip = page.locator(".cpqa-chip").first
    chip.wait_for(timeout=30_000)
    assert chip.is_visible() and page.locator(".cpqa-send").is_visible()
    assert page.locator(".cpqa-lead").evaluate("e => getComputedStyle(e).fontSize") == "16px"
    assert page.problems == []


def test_thumbs_are_stored_and_listed_for_editors(keyed_server, intranet_site, page):
    origin, folder = intranet_site
    (folder / "thumbs.html").write_text(
        '<!doctype html><html lang="en"><head><title>Intranet</title><link rel="icon" href="data:,"></head>'
        f'<body><main><h1>Members</h1></main><script src="{keyed_server.url}/widget.js" data-key="reader-key">'
        "</script></body></html>"
    )
    page.goto(origin + "/thumbs.html")
    _ask(page, "What did we decide about Grangewaters?")
    page.locator(".cpqa-lead").wait_for(timeout=30_000)
    with page.expect_response(lambda r: r.url.endswith("/feedback")) as posted:
        page.get_by_role("button", name="Not useful").click()
    assert posted.value.status == 201
    page.get_by_text("Thank you for the feedback.").wait_for()
    listed = httpx.get(keyed_server.url + "/feedback", headers={"Authorization": "Bearer editor-key"}).json()
    mine = [f for f in listed["feedback"] if f["question"] == "What did we decide about Grangewaters?"]
    assert mine and mine[0]["helpful"] is False and mine[0]["citations"][0]["page"] == 4
    assert httpx.get(keyed_server.url + "/feedback", headers={"Authorization": "Bearer reader-key"}).status_code == 403
    assert page.problems == []


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
    first = page.locator(".cpqa-chip").first
    first.wait_for(timeout=30_000)
    assert page.problems == []
    first.click()
    image = page.locator(".cpqa-scroller img")
    image.wait_for(state="visible")  # fetched with the key, shown from a blob: URL
    assert image.get_attribute("src").startswith("blob:") and image.evaluate("img => img.naturalWidth > 0")
    # The key is what admits it: the same request without one is refused.
    assert httpx.post(keyed_server.url + "/ask", json={"question": "Grangewaters"}).status_code == 401
    assert page.problems == []


class FailingAnswerer:
    """An answerer that breaks after retrieval has run: the failure arrives mid-stream, after `started`."""

    def answer(self, retrieval, citations, missing=()):
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
        assert page.locator(".cpqa-send").is_enabled()
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


# The widget's shadow root (Marionette's selectors do not pierce it; its scripts see the page through Xray wrappers,
# so the root is reached through the DOM, not through the widget's window global).
_ROOT = "document.querySelector('[data-cpqa]').shadowRoot"


def _firefox_ask(client, url: str, question: str) -> None:
    client.navigate(url)
    _until(client, f"document.querySelector('[data-cpqa]') && {_ROOT}.querySelector('.cpqa-toggle')")
    client.execute_script(
        f"const r = {_ROOT}; r.querySelector('.cpqa-toggle').click(); "
        "r.querySelector('#cpqa-question').value = arguments[0]; r.querySelector('form').requestSubmit();",
        script_args=[question],
    )


def test_firefox_asks_cites_and_opens_the_highlighted_page(open_server, firefox):
    _firefox_ask(firefox, open_server.url + "/", "What did we decide about Grangewaters?")
    label = _until(firefox, f"{_ROOT}.querySelector('.cpqa-card') && {_ROOT}.querySelector('.cpqa-card').textContent")
    assert "meeting of 10 January 2023" in label and "page 14" in label
    assert "Grangewaters" in firefox.execute_script(f"return {_ROOT}.querySelector('.cpqa-a').textContent")
    firefox.execute_script(f"{_ROOT}.querySelector('.cpqa-chip').click()")
    _until(
        firefox,
        f"(() => {{ const i = {_ROOT}.querySelector('.cpqa-scroller img'); "
        "return i && !i.hidden && i.naturalWidth > 0; })()",
    )
    assert firefox.execute_script(f"return {_ROOT}.querySelector('.cpqa-viewer').open") is True
    # Opened at the quote: the highlighted band of the page is inside the visible part of the viewer.
    assert firefox.execute_script(
        f"const s = {_ROOT}.querySelector('.cpqa-scroller'), i = s.querySelector('img'); "
        "const [top, bottom] = i.dataset.highlight.split(',').map(Number); "
        "return s.scrollTop / i.offsetHeight <= top && bottom <= (s.scrollTop + s.clientHeight) / i.offsetHeight;"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "firefox-highlighted-page.png").write_bytes(firefox.screenshot(format="binary"))


def test_firefox_shows_script_in_a_pdf_as_text(open_server, firefox):
    _firefox_ask(
        firefox, open_server.url + "/", "What did residents report about the booking form for the Parish Hall prices?"
    )
    _until(firefox, f"{_ROOT}.querySelector('.cpqa-chip')")
    shown = firefox.execute_script(f"return {_ROOT}.querySelector('.cpqa').textContent")
    assert "<script>window.__pwned = 1</script>" in shown or 'onerror="window.__pwned = 2"' in shown
    assert firefox.execute_script(
        f"return window.__pwned === undefined && !{_ROOT}.querySelector('.cpqa script, .cpqa img')"
    )


def test_streams_that_end_early_use_crlf_or_are_not_json_end_in_a_clear_message(open_server, page):
    """Whatever a proxy between the widget and the service does to the stream, the turn ends in words."""
    import json

    answer = httpx.post(open_server.url + "/ask", json={"question": "What did we decide about Grangewaters?"}).json()
    bodies = iter(
        [
            # CRLF line ends (as some proxies rewrite them): still read, the answer shown.
            (
                200,
                "text/event-stream",
                f"event: started\r\ndata: {{}}\r\n\r\nevent: done\r\ndata: {json.dumps(answer)}\r\n\r\n",
            ),
            # The stream cut before `done`.
            (200, "text/event-stream", 'event: started\ndata: {}\n\nevent: answer\ndata: {"text": "On 10"}\n\n'),
            # A proxy's HTML error page instead of the service.
            (502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
        ]
    )

    def fulfil(route):
        status, kind, body = next(bodies)
        route.fulfill(status=status, headers={"Content-Type": kind}, body=body)

    page.route("**/ask/stream", fulfil)
    page.goto(open_server.url + "/")
    _ask(page, "What did we decide about Grangewaters?")
    page.locator(".cpqa-chip").first.wait_for(timeout=10_000)
    _ask(page, "What did we decide about Grangewaters?")
    cut = page.locator(".cpqa-failed").first
    cut.wait_for(timeout=10_000)
    assert cut.inner_text() == "Sorry, that failed: the answer stopped before it was complete; please ask again"
    _ask(page, "What did we decide about Grangewaters?")
    page.locator(".cpqa-failed").nth(1).wait_for(timeout=10_000)
    assert page.locator(".cpqa-failed").nth(1).inner_text().startswith("Sorry, that failed: 502")
    assert (
        page.locator(".cpqa-send").is_enabled()
        and page.get_by_label("Your question about the committee papers").is_editable()
    )
    assert [p for p in page.problems if "502" not in p] == []  # the browser logs the 502 itself


def test_a_quote_from_a_restricted_paper_is_marked_for_the_member_reading_it(open_server, page):
    """The service's answer, with its first citation from an exempt report (as a member's key would get it)."""
    import json

    answer = httpx.post(open_server.url + "/ask", json={"question": "What did we decide about Grangewaters?"}).json()
    assert answer["citations"]
    answer["citations"][0]["restricted"] = True
    body = f"event: started\ndata: {{}}\n\nevent: done\ndata: {json.dumps(answer)}\n\n"
    page.route(
        "**/ask/stream",
        lambda route: route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body),
    )
    page.goto(open_server.url + "/")
    _ask(page, "What did we decide about Grangewaters?")
    chips = page.locator(".cpqa-chip")
    chips.first.wait_for(timeout=10_000)
    assert "cpqa-restricted" in (chips.first.get_attribute("class") or "")
    assert "restricted: members only" in (chips.first.get_attribute("aria-label") or "")
    assert page.locator(".cpqa-badge-restricted").count() == 1
    assert page.locator(".cpqa-badge-restricted").first.inner_text().strip().lower() == "restricted"
    if len(answer["citations"]) > 1:
        assert "cpqa-restricted" not in (chips.nth(1).get_attribute("class") or "")


def test_the_demo_page_takes_a_key_and_says_plainly_when_one_is_needed(keyed_server, page):
    """Served with keys, the demo page at / answers without a key with a message a member can act on (not the
    service's header syntax); a key given in its form is used by the widget from then on, in that tab only."""
    page.goto(keyed_server.url + "/")
    assert page.locator("#demo-key-state").inner_text() == "No key in use."
    _ask(page, "What did we decide about Grangewaters?")
    failed = page.locator(".cpqa-failed").first
    failed.wait_for(timeout=30_000)
    assert failed.inner_text() == (
        "Sorry, that failed: This page has no valid key for the papers service: please tell whoever looks after "
        "the intranet."
    )
    page.get_by_label("API key").fill("reader-key")
    with page.expect_navigation():
        page.get_by_label("API key").press("Enter")  # the open chat panel may cover the form's button
    page.locator("#demo-key-state").get_by_text("A key is in use.").wait_for()
    _ask(page, "What did we decide about Grangewaters?")
    page.locator(".cpqa-chip").first.wait_for(timeout=30_000)
    assert page.locator(".cpqa-failed").count() == 0
    _accessible(page, "the demo page with its key form")
    assert [p for p in page.problems if "401" not in p] == []  # the refused request is logged by the browser
