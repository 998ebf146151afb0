// Council papers chat widget. Add it to any intranet page with one tag:
//   <script src="https://papers-qa.example/widget.js" data-api="https://papers-qa.example" data-key="READER-KEY" defer></script>
// Every piece of document text is set with textContent, never as HTML: a PDF containing <script> shows as text.
(function () {
  "use strict";
  var script = document.currentScript;
  var api = ((script && script.getAttribute("data-api")) || (script ? new URL(script.src, location.href).origin : "")).replace(/\/$/, "");
  var key = script && script.getAttribute("data-key");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function headers() {
    var h = { "Content-Type": "application/json", "Accept": "text/event-stream" };
    if (key) h.Authorization = "Bearer " + key;
    return h;
  }
  function link(path) { return /^https?:/.test(path) ? path : api + path; }
  function longDate(iso) {
    if (!iso) return null;
    var d = new Date(iso + "T12:00:00");
    return d.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
  }

  var css = el("link", { rel: "stylesheet", href: api + "/widget.css" });
  document.head.appendChild(css);

  var root = el("div", { "class": "cpqa" });
  var panel = el("section", { "class": "cpqa-panel", role: "dialog", "aria-label": "Ask about committee papers", hidden: "" });
  var head = el("div", { "class": "cpqa-head" });
  head.appendChild(el("span", {}, "Ask the committee papers"));
  var close = el("button", { type: "button", "aria-label": "Close" }, "×");
  head.appendChild(close);
  var log = el("div", { "class": "cpqa-log", "aria-live": "polite", "aria-busy": "false" });
  var status = el("div", { "class": "cpqa-status", role: "status" });
  var form = el("form", { "class": "cpqa-form" });
  var label = el("label", { "for": "cpqa-question", "class": "cpqa-sr" }, "Your question about the committee papers");
  var input = el("input", { id: "cpqa-question", type: "text", maxlength: "1000", autocomplete: "off",
                            placeholder: "e.g. What did we decide about Grangewaters?" });
  var send = el("button", { type: "submit" }, "Ask");
  form.appendChild(label); form.appendChild(input); form.appendChild(send);
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(status); panel.appendChild(form);
  var toggle = el("button", { type: "button", "class": "cpqa-toggle", "aria-expanded": "false" }, "Ask the papers");
  root.appendChild(panel); root.appendChild(toggle);

  var dialog = el("dialog", { "class": "cpqa-dialog", "aria-label": "The quoted page" });
  var dialogTitle = el("p", {});
  var dialogNote = el("p", { "class": "cpqa-note", role: "status" });
  var dialogImg = el("img", { alt: "" });
  dialogImg.addEventListener("load", function () { dialogImg.hidden = false; dialogNote.textContent = ""; });
  dialogImg.addEventListener("error", function () { dialogNote.textContent = "The page image could not be loaded."; });
  var dialogPdf = el("a", { target: "_blank", rel: "noopener" }, "Open the PDF at this page");
  var dialogClose = el("button", { type: "button" }, "Close");
  dialog.appendChild(dialogTitle); dialog.appendChild(dialogNote); dialog.appendChild(dialogImg); dialog.appendChild(dialogPdf);
  dialog.appendChild(document.createTextNode(" ")); dialog.appendChild(dialogClose);

  function open(show) {
    panel.hidden = !show;
    toggle.setAttribute("aria-expanded", String(show));
    if (show) input.focus(); else toggle.focus();
  }
  toggle.addEventListener("click", function () { open(panel.hidden); });
  close.addEventListener("click", function () { open(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") open(false); });
  var pageBlob = null;  // the page image fetched with the key, released when the dialog closes
  dialogClose.addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("close", function () {
    if (pageBlob) { URL.revokeObjectURL(pageBlob); pageBlob = null; }
    dialogImg.removeAttribute("src");
  });

  function describe(c) {
    var parts = [c.document.title];
    var when = longDate(c.meeting_date);
    if (when) parts.push("meeting of " + when);
    if (c.section) parts.push(c.section);
    parts.push(c.page_label ? "page " + c.page_label : "PDF page " + c.page);
    return parts.join(" · ");
  }
  // With a key, images and the PDF are fetched with the Authorization header (an <img> or a link cannot send one)
  // and shown from a blob: URL; without one they load directly.
  function authorised(path) {
    if (!key) return Promise.resolve(link(path));
    return fetch(link(path), { headers: { Authorization: "Bearer " + key } }).then(function (response) {
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      return response.blob();
    }).then(function (blob) { return URL.createObjectURL(blob); });
  }
  function showPage(c) {
    dialogTitle.textContent = "[" + c.n + "] " + describe(c);
    dialogNote.textContent = "Loading the page…";
    dialogImg.hidden = true;
    dialogImg.alt = "Page " + (c.page_label || c.page) + " of " + c.document.file + ", with the quote highlighted";
    var pdf = c.url.split("#");
    dialogPdf.href = link(c.url);
    dialogPdf.onclick = key ? function (e) {
      e.preventDefault();
      authorised(pdf[0]).then(function (url) { window.open(url + (pdf[1] ? "#" + pdf[1] : ""), "_blank", "noopener"); });
    } : null;
    authorised("/documents/" + encodeURIComponent(c.document.id) + "/pages/" + c.page + ".png?quote=" +
               encodeURIComponent(c.quote))
      .then(function (url) { if (url.indexOf("blob:") === 0) pageBlob = url; dialogImg.src = url; })
      .catch(function (error) { dialogNote.textContent = "The page image could not be loaded: " + error.message; });
    if (dialog.showModal) { if (!dialog.open) dialog.showModal(); } else dialog.setAttribute("open", "");
    dialogClose.focus();
  }
  function citations(list, into) {
    var ul = el("ul", { "class": "cpqa-cites" });
    list.forEach(function (c) {
      var li = el("li");
      var button = el("button", { type: "button", "class": "cpqa-cite" }, "[" + c.n + "] “" + c.quote + "” — " + describe(c));
      button.addEventListener("click", function () { showPage(c); });
      li.appendChild(button);
      ul.appendChild(li);
    });
    into.appendChild(ul);
  }

  function ask(question) {
    var block = el("div", { "class": "cpqa-turn" });
    block.appendChild(el("p", { "class": "cpqa-q" }, question));
    var answer = el("p", { "class": "cpqa-a" });
    block.appendChild(answer);
    log.appendChild(block);
    block.scrollIntoView({ block: "start" });
    log.setAttribute("aria-busy", "true");
    send.disabled = true;
    status.textContent = "Searching the papers…";
    return fetch(api + "/ask/stream", { method: "POST", headers: headers(), body: JSON.stringify({ question: question }) })
      .then(function (response) {
        if (!response.ok) return response.text().then(function (body) {
          // The service's errors carry {"detail": "..."}; anything else (a proxy's error page) gets its status.
          var detail = null;
          try { detail = JSON.parse(body).detail; } catch (ignored) { detail = null; }
          throw new Error(typeof detail === "string" ? detail : response.status + " " + response.statusText);
        });
        var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
        function handle(event, data) {
          if (event === "answer") { answer.textContent += data.text; status.textContent = "Answering…"; }
          else if (event === "error") throw new Error(data.detail);
          else if (event === "done") {
            answer.textContent = data.answer;
            if (data.abstained) {
              answer.classList.add("cpqa-abstain");
              answer.textContent = "The papers don't answer this." + (data.see_also.length ? " The nearest passages, which do not answer it:" : "");
              citations(data.see_also, block);
            } else {
              citations(data.citations, block);
            }
            status.textContent = "";
          }
        }
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            buffer += decoder.decode(chunk.value, { stream: true });
            var parts = buffer.split("\n\n");
            buffer = parts.pop();
            parts.forEach(function (part) {
              var event = "message", data = "";
              part.split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0) event = line.slice(7);
                else if (line.indexOf("data: ") === 0) data += line.slice(6);
              });
              handle(event, data ? JSON.parse(data) : null);
            });
            return pump();
          });
        }
        return pump();
      })
      .catch(function (error) {
        // Shown in the turn that failed, so it is clear which question it was; the status line is cleared.
        answer.classList.add("cpqa-failed");
        answer.textContent = "Sorry, that failed: " + error.message;
        status.textContent = "";
      })
      .then(function () { send.disabled = false; log.setAttribute("aria-busy", "false"); block.scrollIntoView({ block: "start" }); });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var question = input.value.trim();
    if (!question) return;
    input.value = "";
    ask(question);
  });

  function mount() { document.body.appendChild(root); document.body.appendChild(dialog); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  window.CouncilPapersQA = { ask: ask, open: function () { open(true); } };
})();
