/* kb editor, progressive enhancement: the Preview button refreshes the preview in place (the form works
   the same without this file), typing pauses refresh it too, and leaving with unsaved text asks first. */
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }  /* the list of what to fix, each a link to its field, is read first */
  var form = document.querySelector("form.editor[data-preview-url]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var section = document.getElementById("preview");
  var out = document.getElementById("preview-body");
  var button = form.querySelector("button[name=preview]");
  var body = form.querySelector("textarea[name=body]");
  var dirty = false;
  var timer = null;
  var pending = null;
  var status = document.getElementById("preview-status");
  /* Screen readers hear "Preview updated", not the whole preview again at every pause in typing. */
  function announce() {
    if (!status) { return; }
    status.textContent = "";
    setTimeout(function () { status.textContent = status.getAttribute("data-updated") || ""; }, 50);
  }

  function refresh() {
    var data = new FormData(form);
    if (pending) { pending.abort(); }
    pending = window.AbortController ? new AbortController() : null;
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-Requested-With": "fetch"}, signal: pending ? pending.signal : undefined
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      showName(response.headers.get("X-Kb-Name"));
      return response.text();
    }).then(function (html) {
      out.innerHTML = html;  /* rendered and sanitised by the server, the same as the note page */
      section.hidden = false;
      announce();
    }).catch(function (err) {
      if (err && err.name === "AbortError") { return; }
      out.textContent = form.getAttribute("data-offline") || "";
      section.hidden = false;
    });
  }

  /* The name a new note will take from its title, as the server makes it (transliterated). */
  var slug = form.querySelector("input[name=slug]");
  var auto = document.getElementById("slug-auto");
  var autoName = document.getElementById("slug-name");
  function showName(name) {
    if (!slug || !auto || name === null) { return; }
    slug.placeholder = name;
    autoName.textContent = name;
    auto.hidden = !name || slug.value !== "";
  }
  var title = form.querySelector("input[name=title]");
  if (slug && title) {
    title.addEventListener("change", refresh);
    slug.addEventListener("input", function () { if (auto) { auto.hidden = slug.value !== "" || !autoName.textContent; } });
  }

  if (button) {
    button.addEventListener("click", function (event) { event.preventDefault(); refresh(); });
  }
  if (body) {
    body.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 1500);
    });
  }
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
}());
