/* kb offline pack: search the notes of this folder with no server.
   search-index.js sets window.KB_SEARCH_INDEX (a script, because fetch() of a local file is refused).
   Words are folded as kb/export.py folds them: NFC, Arabic marks and tatweel removed, أإآٱ→ا ى→ي ة→ه,
   lowercase, Latin accents removed. Every query word must begin a word of the note. */
(function () {
  "use strict";
  var data = window.KB_SEARCH_INDEX;
  var form = document.getElementById("offline-search");
  var input = document.getElementById("q");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var all = document.getElementById("all-notes");
  if (!data || !form || !input || !list || !status || !all) { return; }

  var ARABIC_MARKS = /[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]/g;
  var LATIN_MARKS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g;
  var LETTERS = {"\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627",
    "\u0649": "\u064a", "\u0629": "\u0647", "\u06cc": "\u064a", "\u06a9": "\u0643",
    "\u0153": "oe", "\u00e6": "ae", "\u00f8": "o", "\u0111": "d", "\u0142": "l", "\u0131": "i",
    "\u00f0": "d", "\u00fe": "th", "\u00df": "ss"};
  var ARTICLES = ["\u0648\u0627\u0644", "\u0628\u0627\u0644", "\u0643\u0627\u0644", "\u0641\u0627\u0644",
    "\u0627\u0644", "\u0644\u0644"];
  var RTL = {ar: true};

  function fold(text) {
    var s = String(text).normalize("NFC").replace(ARABIC_MARKS, "").toLowerCase();
    s = s.normalize("NFD").replace(LATIN_MARKS, "").normalize("NFC");
    return s.replace(/[\u0622\u0623\u0625\u0671\u0649\u0629\u06cc\u06a9\u0153\u00e6\u00f8\u0111\u0142\u0131\u00f0\u00fe\u00df]/g,
      function (c) { return LETTERS[c]; });
  }

  function words(text) {
    return fold(text).split(/[^\p{L}\p{N}]+/u).filter(function (w) { return w.length > 0; });
  }

  function variants(word) {
    for (var i = 0; i < ARTICLES.length; i++) {
      var a = ARTICLES[i];
      if (word.indexOf(a) === 0 && word.length - a.length >= 2) { return [word, word.slice(a.length)]; }
    }
    return [word];
  }

  var docs = data.notes.map(function (n, i) {
    return {note: n, order: i, title: " " + n.w + " ", text: " " + n.w + " " + n.x + " "};
  });

  function count(haystack, vs) {
    for (var i = 0; i < vs.length; i++) { if (haystack.indexOf(" " + vs[i]) >= 0) { return true; } }
    return false;
  }

  function search(query) {
    var terms = words(query).map(variants);
    if (!terms.length) { return null; }
    var found = [];
    docs.forEach(function (d) {
      var score = 0;
      for (var i = 0; i < terms.length; i++) {
        if (!count(d.text, terms[i])) { return; }
        score += count(d.title, terms[i]) ? 3 : 1;
      }
      found.push({doc: d, score: score});
    });
    found.sort(function (a, b) { return b.score - a.score || a.doc.order - b.doc.order; });
    return found.map(function (f) { return f.doc.note; });
  }

  function item(note) {
    var li = document.createElement("li");
    var h = document.createElement("h3");
    var a = document.createElement("a");
    h.lang = note.l;
    h.dir = RTL[note.l] ? "rtl" : "ltr";
    a.href = "notes/" + note.s + ".html";
    a.textContent = note.t;
    h.appendChild(a);
    li.appendChild(h);
    if (note.m) {
      var p = document.createElement("p");
      p.className = "snippet";
      p.lang = note.l;
      p.dir = h.dir;
      p.textContent = note.m;
      li.appendChild(p);
    }
    return li;
  }

  function show(query) {
    var notes = search(query);
    list.textContent = "";
    if (notes === null) {
      list.hidden = true;
      status.hidden = true;
      all.hidden = false;
      return;
    }
    notes.slice(0, 100).forEach(function (n) { list.appendChild(item(n)); });
    status.textContent = notes.length ? status.getAttribute("data-found").replace("{n}", notes.length)
      : status.getAttribute("data-none");
    status.hidden = false;
    list.hidden = notes.length === 0;
    all.hidden = true;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    show(input.value);
  });
  input.addEventListener("input", function () { show(input.value); });
  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    input.value = initial;
    show(initial);
  }
}());
