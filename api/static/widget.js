// Council papers chat widget. Add it to any intranet page with one tag:
//   <script src="https://papers-qa.example/widget.js" data-api="https://papers-qa.example" data-key="READER-KEY" defer></script>
//
// It renders in a shadow root with its own stylesheet, so the host page's CSS cannot reach in and its own cannot
// leak out; loading the script twice makes one widget. Every piece of document text is set with textContent, never
// as HTML: a PDF containing <script> shows as text. No CDN: the intranet may have no internet.
(function () {
  "use strict";
  if (window.CouncilPapersQA) return;  // loaded twice: keep the first widget

  var script = document.currentScript;
  var api = ((script && script.getAttribute("data-api")) || (script ? new URL(script.src, location.href).origin : "")).replace(/\/$/, "");
  var key = script && script.getAttribute("data-key");
  var ZOOMS = [0.5, 1, 1.5, 2, 3, 4];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function authHeaders(extra) {
    var h = extra || {};
    if (key) h.Authorization = "Bearer " + key;
    return h;
  }
  function link(path) { return /^https?:/.test(path) ? path : api + path; }
  function longDate(iso) {
    if (!iso) return null;
    var d = new Date(iso + "T12:00:00");
    return d.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
  }
  function pageWords(c, page) {
    if (page && page !== c.page) return "PDF page " + page;
    return c.page_label ? "page " + c.page_label : "PDF page " + c.page;
  }
  // An error body from the service is {"detail": "..."}; anything else (a proxy's HTML error page) gets its status.
  // A missing or refused key is told in words a member can act on, not the service's header syntax.
  var PLAIN = {
    401: "This page has no valid key for the papers service: please tell whoever looks after the intranet.",
    403: "Your key does not allow this."
  };
  function failure(response) {
    return response.text().then(function (body) {
      var detail = null;
      try { detail = JSON.parse(body).detail; } catch (ignored) { detail = null; }
      throw new Error(PLAIN[response.status] ||
        (typeof detail === "string" ? detail : response.status + " " + (response.statusText || "error")));
    });
  }

  // ---- the shadow root and its parts
  var host = el("div", { "data-cpqa": "" });
  var shadow = host.attachShadow({ mode: "open" });
  add(shadow, el("link", { rel: "stylesheet", href: api + "/widget.css" }));
  var root = el("aside", { "class": "cpqa", "aria-label": "Committee papers assistant" });
  var panel = el("section", { "class": "cpqa-panel", role: "dialog", "aria-labelledby": "cpqa-title", hidden: "" });
  var head = el("header", { "class": "cpqa-head" });
  var close = el("button", { type: "button", "class": "cpqa-icon", "aria-label": "Close" }, "×");
  add(head, el("h2", { id: "cpqa-title" }, "Ask the committee papers"), close);
  var log = el("div", { "class": "cpqa-log", role: "log", "aria-live": "polite", "aria-busy": "false", tabindex: "-1" });
  var starters = el("div", { "class": "cpqa-starters" });
  var status = el("div", { "class": "cpqa-status cpqa-sr", role: "status" });
  // Shown while a question is worked on; afterwards its words are for screen readers only (no idle row of text).
  function say(text, working) { status.textContent = text; status.classList.toggle("cpqa-sr", !working); }
  var form = el("form", { "class": "cpqa-form" });
  var label = el("label", { "for": "cpqa-question", "class": "cpqa-sr" }, "Your question about the committee papers");
  var input = el("input", { id: "cpqa-question", type: "text", maxlength: "1000", autocomplete: "off",
                            enterkeyhint: "send", placeholder: "Ask about the papers…" });
  var send = el("button", { type: "submit", "class": "cpqa-send" }, "Ask");
  add(form, label, input, send);
  add(panel, head, add(log, starters), status, form);
  var toggle = el("button", { type: "button", "class": "cpqa-toggle", "aria-expanded": "false" }, "Ask the papers");
  add(root, panel, toggle);

  // The page viewer: its controls at the top, the page below, opened scrolled to the highlight.
  var viewer = el("dialog", { "class": "cpqa-viewer", "aria-labelledby": "cpqa-viewer-title" });
  var bar = el("div", { "class": "cpqa-bar" });
  var viewerTitle = el("h2", { id: "cpqa-viewer-title", "class": "cpqa-viewer-title" });
  var viewerClose = el("button", { type: "button", "class": "cpqa-icon", "aria-label": "Close the page" }, "×");
  var tools = el("div", { "class": "cpqa-tools", role: "toolbar", "aria-label": "Page" });
  var zoomOut = el("button", { type: "button", "aria-label": "Zoom out" }, "−");
  var zoomShown = el("span", { "class": "cpqa-zoom", "aria-live": "polite" }, "100%");
  var zoomIn = el("button", { type: "button", "aria-label": "Zoom in" }, "+");
  var prev = el("button", { type: "button", "aria-label": "Previous page" }, "‹");
  var pageShown = el("span", { "class": "cpqa-pageno" });
  var next = el("button", { type: "button", "aria-label": "Next page" }, "›");
  var pdfLink = el("a", { target: "_blank", rel: "noopener", "class": "cpqa-pdf" }, "Open the PDF at this page");
  add(tools, zoomOut, zoomShown, zoomIn, prev, pageShown, next, pdfLink);
  add(bar, add(el("div", { "class": "cpqa-bar-row" }), viewerTitle, viewerClose), tools);
  var viewerNote = el("p", { "class": "cpqa-note", role: "status" });
  var scroller = el("div", { "class": "cpqa-scroller", tabindex: "0", "aria-label": "The page" });
  var pageImg = el("img", { alt: "", hidden: "" });
  add(scroller, pageImg);
  add(viewer, bar, viewerNote, scroller);
  add(shadow, root, viewer);

  // ---- opening and closing
  var started = false;
  function open(show) {
    panel.hidden = !show;
    root.classList.toggle("cpqa-open", show);
    toggle.setAttribute("aria-expanded", String(show));
    if (show) { input.focus(); if (!started) { started = true; loadStarters(); } }
    else toggle.focus();
  }
  toggle.addEventListener("click", function () { open(panel.hidden); });
  close.addEventListener("click", function () { open(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape" && !viewer.open) { e.preventDefault(); open(false); } });

  // ---- the page viewer
  var shown = null;  // {c, page, zoom, blob}
  function setZoom(zoom, keepCentre) {
    var y = scroller.scrollTop + scroller.clientHeight / 2, h = pageImg.offsetHeight || 1;
    shown.zoom = Math.max(ZOOMS[0], Math.min(ZOOMS[ZOOMS.length - 1], zoom));
    pageImg.style.width = Math.round(shown.zoom * 100) + "%";
    zoomShown.textContent = Math.round(shown.zoom * 100) + "%";
    zoomOut.disabled = shown.zoom <= ZOOMS[0];
    zoomIn.disabled = shown.zoom >= ZOOMS[ZOOMS.length - 1];
    if (keepCentre) scroller.scrollTop = y / h * pageImg.offsetHeight - scroller.clientHeight / 2;
  }
  function step(direction) {
    var i = ZOOMS.indexOf(shown.zoom);
    if (i < 0) i = direction > 0 ? 0 : ZOOMS.length - 1;
    setZoom(ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, i + direction))], true);
  }
  zoomIn.addEventListener("click", function () { step(1); });
  zoomOut.addEventListener("click", function () { step(-1); });
  // Two fingers zoom the page, whatever the host page's viewport allows.
  var pinch = null;
  function spread(t) { return Math.hypot(t[0].clientX - t[1].clientX, t[0].clientY - t[1].clientY); }
  scroller.addEventListener("touchstart", function (e) { if (e.touches.length === 2) pinch = { d: spread(e.touches), z: shown.zoom }; }, { passive: true });
  scroller.addEventListener("touchmove", function (e) {
    if (pinch && e.touches.length === 2) { e.preventDefault(); setZoom(pinch.z * spread(e.touches) / pinch.d, true); }
  }, { passive: false });
  scroller.addEventListener("touchend", function () { pinch = null; });
  prev.addEventListener("click", function () { if (shown.page > 1) loadPage(shown.page - 1); });
  next.addEventListener("click", function () { loadPage(shown.page + 1); });
  viewerClose.addEventListener("click", function () { viewer.close(); });
  viewer.addEventListener("close", function () {
    if (shown && shown.blob) URL.revokeObjectURL(shown.blob);
    pageImg.removeAttribute("src");
    pageImg.hidden = true;
    if (shown && shown.opener && shown.opener.isConnected) shown.opener.focus();
    shown = null;
  });

  function showPage(c, opener) {
    shown = { c: c, page: c.page, zoom: 1, blob: null, opener: opener, pages: c.document.pages || null };
    var when = longDate(c.meeting_date);
    viewerTitle.textContent = "[" + c.n + "] " + [c.section_words || c.document.title, when ? "meeting of " + when : null]
      .filter(Boolean).join(" · ");
    viewerTitle.title = c.document.title;
    if (!viewer.open) { if (viewer.showModal) viewer.showModal(); else viewer.setAttribute("open", ""); }
    // On a phone the whole page is too small to read: start at twice the width, at the quote.
    shown.zoom = scroller.clientWidth < 600 ? 2 : 1;
    viewerClose.focus();
    loadPage(c.page);
  }
  function loadPage(page) {
    var c = shown.c, mine = shown;
    if (shown.pages && page > shown.pages) return;
    shown.page = page;
    var onQuote = page === c.page;
    pageShown.textContent = pageWords(c, page) + (shown.pages ? " (" + page + " of " + shown.pages + ")" : "");
    prev.disabled = page <= 1;
    next.disabled = !!shown.pages && page >= shown.pages;
    pageImg.alt = "Page " + (onQuote ? (c.page_label || c.page) : page) + " of " + c.document.file +
                  (onQuote ? ", with the quote highlighted" : "");
    var pdf = c.url.split("#")[0];
    pdfLink.href = link(pdf) + "#page=" + page;
    pdfLink.onclick = key ? function (e) {
      e.preventDefault();
      fetchBlob(pdf).then(function (got) { window.open(got.url + "#page=" + page, "_blank", "noopener"); });
    } : null;
    viewerNote.textContent = "Loading the page…";
    var path = "/documents/" + encodeURIComponent(c.document.id) + "/pages/" + page + ".png" +
               (onQuote ? "?quote=" + encodeURIComponent(c.quote) : "");
    fetchBlob(path).then(function (got) {
      if (shown !== mine) { URL.revokeObjectURL(got.url); return; }
      if (shown.blob) URL.revokeObjectURL(shown.blob);
      shown.blob = got.url;
      var pages = parseInt(got.headers.get("X-Page-Count") || "", 10), printed = got.headers.get("X-Page-Label");
      if (pages) shown.pages = pages;
      next.disabled = !!shown.pages && page >= shown.pages;
      pageShown.textContent = (printed ? "page " + printed : "PDF page " + page) + (shown.pages ? " (" + page + " of " + shown.pages + ")" : "");
      var mark = (got.headers.get("X-Highlight") || "").split(",").map(parseFloat);
      pageImg.setAttribute("data-highlight", mark.length === 4 ? mark.join(",") : "");
      pageImg.onload = function () {
        pageImg.hidden = false;
        viewerNote.textContent = onQuote && mark.length === 4 ? "The quote is highlighted." : "";
        setZoom(shown.zoom, false);
        // Open at the highlight, a third of the way down the view; the top of the page otherwise.
        var marked = mark.length === 4 && !isNaN(mark[0]);
        scroller.scrollTop = marked ? mark[0] * pageImg.offsetHeight - scroller.clientHeight / 3 : 0;
        scroller.scrollLeft = marked ? mark[2] * pageImg.offsetWidth - 16 : 0;
      };
      pageImg.src = got.url;
    }).catch(function (error) { viewerNote.textContent = "The page image could not be loaded: " + error.message; });
  }
  // Images and the PDF are fetched (with the key when there is one: an <img> or a link cannot send it) and shown
  // from a blob: URL, so the viewer can also read where the highlight is.
  function fetchBlob(path) {
    return fetch(link(path), { headers: authHeaders() }).then(function (response) {
      if (!response.ok) return failure(response);
      return response.blob().then(function (blob) { return { url: URL.createObjectURL(blob), headers: response.headers }; });
    });
  }

  // ---- starter questions, drawn from the indexed papers by the service
  function loadStarters() {
    fetch(api + "/suggestions", { headers: authHeaders() }).then(function (response) {
      return response.ok ? response.json() : { questions: [] };
    }).then(function (data) {
      if (!data.questions.length || log.querySelector(".cpqa-turn")) return;
      add(starters, el("p", { "class": "cpqa-hint" }, "Try asking:"));
      var list = el("ul", {});
      data.questions.forEach(function (q) {
        var b = el("button", { type: "button", "class": "cpqa-starter" }, q);
        b.addEventListener("click", function () { ask(q); });
        add(list, add(el("li", {}), b));
      });
      add(starters, list);
    }).catch(function () { /* no suggestions: the input is enough */ });
  }

  // ---- an answer: the lead first, [n] as chips, sources as cards that expand to the quote
  var turns = 0;
  function line(text, cited, into, turn) {
    var p = el("p", {});
    text.split(/(\[\d+\])/).forEach(function (part) {
      var m = /^\[(\d+)\]$/.exec(part), c = m && cited[parseInt(m[1], 10)];
      if (!c) { if (part) p.appendChild(document.createTextNode(part)); return; }
      var chip = el("button", { type: "button", "class": "cpqa-chip" + (c.restricted ? " cpqa-restricted" : ""),
                                "aria-label": "Source " + c.n + ": " + c.document.title + ", " + pageWords(c) +
                                  (c.restricted ? " (restricted: members only)" : "") }, String(c.n));
      chip.addEventListener("click", function () { showPage(c, chip); });
      p.appendChild(chip);
    });
    return add(into, p);
  }
  function card(c, turn, nearest) {
    var li = el("li", { "class": "cpqa-card" + (nearest ? " cpqa-card-nearest" : ""), id: "cpqa-src-" + turn + "-" + c.n });
    var when = longDate(c.meeting_date);
    var main = c.section_words ? c.section_words.charAt(0).toUpperCase() + c.section_words.slice(1) : c.document.title;
    var what = [when ? "meeting of " + when : null, pageWords(c), c.section_words ? c.document.title : null]
      .filter(Boolean).join(" · ");
    var toggleQuote = el("button", { type: "button", "class": "cpqa-card-head", "aria-expanded": "false" });
    var hint = el("span", { "class": "cpqa-hint-quote" }, "Show the quote ▸");
    var badge = c.restricted ? el("span", { "class": "cpqa-badge-restricted", title: "An exempt paper: for members only" },
                                  "Restricted") : null;
    add(toggleQuote, el("span", { "class": "cpqa-n" }, nearest ? "·" : String(c.n)),
        add(el("span", { "class": "cpqa-card-text" }, null),
            el("span", { "class": "cpqa-doc" }, main), badge, el("span", { "class": "cpqa-where" }, what), hint));
    var quote = el("blockquote", { hidden: "" }, "“" + c.quote + "”");
    var view = el("button", { type: "button", "class": "cpqa-view" }, "View page");
    toggleQuote.addEventListener("click", function () {
      var openNow = quote.hidden;
      quote.hidden = !openNow;
      toggleQuote.setAttribute("aria-expanded", String(openNow));
      hint.textContent = openNow ? "Hide the quote ▾" : "Show the quote ▸";
    });
    view.addEventListener("click", function () { showPage(c, view); });
    return add(li, toggleQuote, quote, view);
  }
  function render(data, turn, block, answerBox, question) {
    answerBox.textContent = "";
    answerBox.classList.remove("cpqa-streaming");
    var cited = {};
    (data.citations || []).forEach(function (c) { cited[c.n] = c; });
    var lines = (data.answer || "").split("\n").filter(function (l) { return l.trim(); });
    if (data.searched_for) add(block, el("p", { "class": "cpqa-searched" }, "Searched for: " + data.searched_for));
    if (data.abstained) {
      var box = el("div", { "class": "cpqa-notice cpqa-abstain", role: "note" });
      add(box, el("strong", {}, "The papers don't answer this."));
      if (data.missing && data.missing.length) add(box, el("p", {}, "Not in the papers: " + data.missing.join(", ") + "."));
      answerBox.replaceWith(box);
      if (data.see_also && data.see_also.length) {
        var near = el("section", { "class": "cpqa-nearest", "aria-label": "Nearest passages, not an answer" });
        add(near, el("h3", {}, "Nearest passages (not an answer)"));
        var ol = el("ul", { "class": "cpqa-cards" });
        data.see_also.forEach(function (c) { ol.appendChild(card(c, turn, true)); });
        add(block, add(near, ol));
      }
      return box;
    }
    if (data.partial) {
      var notice = el("div", { "class": "cpqa-notice cpqa-partial", role: "note" });
      add(notice, el("strong", {}, "The papers don't give " + (data.missing || []).join(", ") + "."),
          el("span", {}, " The nearest they give:"));
      block.insertBefore(notice, answerBox);
      if (lines.length && /^The papers don't give/.test(lines[0])) lines.shift();  // said in the notice
    }
    if (data.timeline && data.timeline.length) {
      // Decisions read as a small timeline: the meeting, a status badge, the decision's words and its chip.
      var ol = el("ol", { "class": "cpqa-timeline", "aria-label": "Decisions, in order" });
      data.timeline.forEach(function (t) {
        var c = cited[t.n];
        if (!c) return;
        var li = el("li", { "class": "cpqa-tl" });
        var head = el("p", { "class": "cpqa-tl-head" });
        add(head, el("span", { "class": "cpqa-badge cpqa-badge-" + t.status.replace(/\W+/g, "-") }, t.status),
            el("span", { "class": "cpqa-tl-when" }, [longDate(t.meeting_date), t.where].filter(Boolean).join(" · ")));
        var words = line("“" + c.quote + "” [" + c.n + "]", cited, li, turn).lastChild;
        words.className = ol.childNodes.length ? "cpqa-tl-text" : "cpqa-tl-text cpqa-lead";  // the first answers
        li.insertBefore(head, words);
        ol.appendChild(li);
      });
      add(answerBox, ol);
      lines.filter(function (l) { return /^\(/.test(l); }).forEach(function (note) {
        add(answerBox, el("p", { "class": "cpqa-support" }, note));
      });
      lines = [];
    }
    // The lead answers; further quotes ("Also: ...") wait behind a button, so the answer reads in one line.
    var more = el("div", { "class": "cpqa-more", hidden: "" });
    var points = lines.length > 1 && /^- /.test(lines[1]);  // decisions of one minute: a heading, then its points
    lines.forEach(function (text, i) {
      var into = i === 0 || points ? answerBox : more;
      var p = line(text.replace(/^Also: /, ""), cited, into, turn).lastChild;
      p.className = i === 0 ? "cpqa-lead" : (/^- /.test(text) ? "cpqa-point" : "cpqa-support");
    });
    if (more.childNodes.length) {
      var n = more.querySelectorAll(".cpqa-chip").length || more.childNodes.length;
      var showMore = el("button", { type: "button", "class": "cpqa-show-more", "aria-expanded": "false" },
                        "Show " + n + " more quote" + (n > 1 ? "s" : ""));
      showMore.addEventListener("click", function () {
        more.hidden = !more.hidden;
        showMore.setAttribute("aria-expanded", String(!more.hidden));
        showMore.textContent = (more.hidden ? "Show " : "Hide ") + n + " more quote" + (n > 1 ? "s" : "");
      });
      add(answerBox, showMore, more);
    }
    if (data.citations && data.citations.length) {
      var sources = el("section", { "class": "cpqa-sources", "aria-label": "Sources" });
      add(sources, el("h3", {}, "Sources"));
      var list = el("ol", { "class": "cpqa-cards" });
      data.citations.forEach(function (c) { list.appendChild(card(c, turn, false)); });
      add(block, add(sources, list));
    }
    add(block, actions(data, question));
    return answerBox;
  }
  function actions(data, question) {
    var row = el("div", { "class": "cpqa-actions" });
    var said = el("span", { "class": "cpqa-said", role: "status" });
    var copy = el("button", { type: "button" }, "Copy answer");
    copy.addEventListener("click", function () {
      var text = data.answer + "\n\n" + (data.citations || []).map(function (c) {
        return "[" + c.n + "] " + c.document.title + ", " + pageWords(c) + (c.meeting_date ? ", meeting of " + longDate(c.meeting_date) : "");
      }).join("\n");
      var done = function () { said.textContent = "Copied."; };
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, function () { said.textContent = "Copying is not allowed here."; });
      else said.textContent = "Copying is not available here.";
    });
    // Words, not emoji: a locked-down council PC may have no emoji font.
    var up = el("button", { type: "button", "aria-pressed": "false", "aria-label": "Useful" }, "Yes");
    var down = el("button", { type: "button", "aria-pressed": "false", "aria-label": "Not useful" }, "No");
    function thumb(helpful, button) {
      up.setAttribute("aria-pressed", String(helpful)); down.setAttribute("aria-pressed", String(!helpful));
      fetch(api + "/feedback", {
        method: "POST", headers: authHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify({ question: question, answer: data.answer, citations: data.citations || [],
                               abstained: !!data.abstained, partial: !!data.partial, helpful: helpful })
      }).then(function (response) {
        if (!response.ok) return failure(response);
        said.textContent = "Thank you for the feedback.";
      }).catch(function (error) { said.textContent = "Feedback not saved: " + error.message; button.setAttribute("aria-pressed", "false"); });
    }
    up.addEventListener("click", function () { thumb(true, up); });
    down.addEventListener("click", function () { thumb(false, down); });
    add(row, copy, el("span", { "class": "cpqa-ask-useful" }, "Was this useful?"), up, down, said);
    return row;
  }

  // ---- asking: one stream at a time; a new question cancels the old one
  var current = null;
  function ask(question) {
    if (panel.hidden) open(true);
    if (current) current.controller.abort();
    starters.textContent = "";
    var turn = ++turns;
    var mine = { controller: new AbortController(), done: false };
    current = mine;
    add(log, add(el("div", { "class": "cpqa-turn cpqa-user" }), el("p", { "class": "cpqa-q" }, question)));
    var block = el("div", { "class": "cpqa-turn cpqa-bot" });
    var answerBox = el("div", { "class": "cpqa-a cpqa-streaming" });
    var typing = el("span", { "class": "cpqa-typing", "aria-hidden": "true" });
    add(typing, el("i"), el("i"), el("i"));
    add(block, add(answerBox, typing));
    add(log, block);
    block.scrollIntoView({ block: "start" });
    log.setAttribute("aria-busy", "true");
    say("Searching the papers…", true);
    var streamed = "";
    return fetch(api + "/ask/stream", {
      method: "POST", signal: mine.controller.signal,
      headers: authHeaders({ "Content-Type": "application/json", "Accept": "text/event-stream" }),
      body: JSON.stringify({ question: question })
    }).then(function (response) {
      if (!response.ok) return failure(response);
      var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function handle(event, data) {
        if (event === "answer") {
          streamed += data.text; answerBox.textContent = streamed; say("Answering…", true);
        } else if (event === "error") {
          throw new Error(data.detail);
        } else if (event === "done") {
          mine.done = true;
          render(data, turn, block, answerBox, question);
          say(data.abstained ? "The papers don't answer this." :
              data.partial ? "Answered in part: the papers don't give " + (data.missing || []).join(", ") + "." : "Answered.", false);
          (block.previousSibling || block).scrollIntoView({ block: "start" });  // the question, then its answer
        }
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            if (!mine.done) throw new Error("the answer stopped before it was complete; please ask again");
            return;
          }
          buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
          var parts = buffer.split("\n\n");
          buffer = parts.pop();
          parts.forEach(function (part) {
            var event = "message", data = "";
            part.split("\n").forEach(function (l) {
              if (l.indexOf("event:") === 0) event = l.slice(6).trim();
              else if (l.indexOf("data:") === 0) data += l.slice(5).replace(/^ /, "");
            });
            var parsed = null;
            if (data) { try { parsed = JSON.parse(data); } catch (ignored) { throw new Error("the service sent something that is not an answer"); } }
            handle(event, parsed);
          });
          return pump();
        });
      }
      return pump();
    }).catch(function (error) {
      answerBox.classList.remove("cpqa-streaming");
      // Shown in the turn that failed, so it is clear which question it was.
      if (error && error.name === "AbortError") {
        answerBox.classList.add("cpqa-stopped");
        answerBox.textContent = "Stopped: you asked another question.";
      } else {
        answerBox.classList.add("cpqa-failed");
        answerBox.textContent = "Sorry, that failed: " + error.message;
        say("", false);
      }
    }).then(function () {
      if (current !== mine) return;  // a newer question owns the status and the busy flag
      current = null;
      log.setAttribute("aria-busy", "false");
      if (status.textContent === "Searching the papers…" || status.textContent === "Answering…") say("", false);
    });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var question = input.value.trim();
    if (!question) return;
    input.value = "";
    input.focus();  // keeps Escape and the next question on the keyboard
    ask(question);
  });

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  window.CouncilPapersQA = { ask: ask, open: function () { open(true); }, root: shadow };
})();
