// memprof html: sorting the tables, "show all", the flame graph tabs and
// search, and which metric shades the source lines.  No network, no inline
// script (the pages' Content-Security-Policy forbids both).
'use strict';

function sortTable(table, th) {
  var col = th.cellIndex;
  var text = th.dataset.type === 'text';
  // Numbers sort largest first on the first click, names A to Z.
  var desc = th.getAttribute('aria-sort') ? th.getAttribute('aria-sort') === 'ascending' : !text;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows).map(function (r, i) {
    var c = r.cells[col];
    return { r: r, i: i, k: text ? c.textContent.toLowerCase() : Number(c.dataset.v) };
  });
  rows.sort(function (a, b) {
    var d = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
    return (desc ? -d : d) || a.i - b.i;
  });
  var frag = document.createDocumentFragment();
  rows.forEach(function (x) { frag.appendChild(x.r); });
  body.appendChild(frag);
  Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute('aria-sort'); });
  th.setAttribute('aria-sort', desc ? 'descending' : 'ascending');
}

function setupTables() {
  document.querySelectorAll('table.sortable').forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.addEventListener('click', function () { sortTable(table, th); });
    });
  });
  document.querySelectorAll('button.more').forEach(function (b) {
    var label = b.textContent;
    b.addEventListener('click', function () {
      var table = document.getElementById(b.dataset.table);
      var limited = table.classList.toggle('limited');
      b.textContent = limited ? label : 'Show the first 100';
    });
  });
}

// The graphs are big documents, so each loads only when it is first shown:
// the one on view when the page scrolls near it, the others on their tab.
function setupFlames() {
  var frames = document.querySelectorAll('iframe.flame');
  var term = '';
  // A graph is a document of its own (file:// makes it another origin), so
  // it hears a search as a message: see flame.js.
  function send(f) {
    if (f.getAttribute('src')) f.contentWindow.postMessage({ memprof: 'search', term: term }, '*');
  }
  function show(f) {
    if (!f.getAttribute('src')) {
      f.addEventListener('load', function () { if (term) send(f); });
      f.src = f.dataset.src;
    }
  }
  frames.forEach(function (f) {
    if (f.classList.contains('off')) return;
    var seen = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) {
        seen.disconnect();
        show(f);
      }
    }, { rootMargin: '300px' });
    seen.observe(f);
  });
  document.querySelectorAll('#flames .tabs button[data-graph]').forEach(function (b) {
    b.addEventListener('click', function () {
      frames.forEach(function (f) {
        var on = f.id === 'fg-' + b.dataset.graph;
        if (on) show(f);
        f.classList.toggle('off', !on);
      });
      document.querySelectorAll('#flames .tabs button[data-graph]').forEach(function (o) {
        o.classList.toggle('on', o === b);
      });
    });
  });
  var form = document.getElementById('fgsearch');
  if (!form) return;
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    term = document.getElementById('fgterm').value;
    frames.forEach(send);
  });
}

function setupHeat() {
  var select = document.getElementById('heat');
  if (!select) return;
  select.addEventListener('change', function () {
    document.body.className = 'm-' + select.value;
  });
}

document.addEventListener('DOMContentLoaded', function () {
  setupTables();
  setupFlames();
  setupHeat();
});
