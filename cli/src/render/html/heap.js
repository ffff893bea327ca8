// The treemap of heap.html: draws one level of the layout heap-data.js
// holds (memprof computed it), zooms into a path on click, and goes back
// through the trail.  Names reach the page as text only.
'use strict';
(function () {
  var data = window.memprofHeap;
  var svg = document.getElementById('treemap');
  if (!data || !svg) return;
  var NS = 'http://www.w3.org/2000/svg';
  var crumbs = document.getElementById('crumbs');
  var hover = document.getElementById('hover');

  function size(b) {
    var units = ['KiB', 'MiB', 'GiB', 'TiB'];
    if (b < 1024) return b + ' bytes';
    var v = b / 1024, u = 0;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
    return v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2) + ' ' + units[u];
  }
  function group(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function describe(id) {
    var n = data.nodes[id];
    var share = n.b ? Math.round(100 * n.a / n.b) : 0;
    var text = (n.f || n.n) + ': ' + group(n.b) + ' bytes (' + size(n.b) + '), ' + share + '% of it arena, in ' + group(n.s) + ' SVs';
    n.l.forEach(function (l) { text += '\n  ' + size(l[1]) + ' allocated at ' + l[0]; });
    return text;
  }
  function hue(id) { return (id * 47) % 360; }

  function trail(id) {
    while (crumbs.firstChild) crumbs.removeChild(crumbs.firstChild);
    var chain = [];
    for (var i = id; i >= 0; i = data.nodes[i].p) chain.unshift(i);
    chain.forEach(function (c, k) {
      if (k) crumbs.appendChild(document.createTextNode(' › '));
      var b = document.createElement(k === chain.length - 1 ? 'span' : 'button');
      b.textContent = data.nodes[c].n;
      b.className = 'crumb';
      if (k !== chain.length - 1) {
        b.type = 'button';
        b.addEventListener('click', function () { show(c); });
      }
      crumbs.appendChild(b);
    });
    crumbs.dataset.path = data.nodes[id].f;
  }

  function show(id) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var node = data.nodes[id];
    svg.dataset.node = id;
    node.k.forEach(function (k) {
      var c = k[0];
      var g = document.createElementNS(NS, 'g');
      var r = document.createElementNS(NS, 'rect');
      r.setAttribute('x', k[1]); r.setAttribute('y', k[2]);
      r.setAttribute('width', Math.max(k[3] - 1, 0.5)); r.setAttribute('height', Math.max(k[4] - 1, 0.5));
      var title = document.createElementNS(NS, 'title');
      if (c < 0) {
        r.setAttribute('fill', '#d8dde3');
        title.textContent = (node.f || node.n) + ': its own bytes, beyond its children\'s';
      } else {
        var child = data.nodes[c];
        r.setAttribute('fill', 'hsl(' + hue(c) + ', 55%, ' + (child.k.length ? 62 : 75) + '%)');
        title.textContent = describe(c);
        g.dataset.node = c;
        g.dataset.path = child.f;
        if (child.k.length) {
          g.classList.add('zoomable');
          g.addEventListener('click', function () { show(c); });
        }
        g.addEventListener('mouseenter', function () { hover.textContent = describe(c); });
      }
      g.appendChild(title);
      g.appendChild(r);
      if (k[3] > 60 && k[4] > 16) {
        var t = document.createElementNS(NS, 'text');
        t.setAttribute('x', k[1] + 4); t.setAttribute('y', k[2] + 14);
        t.textContent = c < 0 ? '(own)' : data.nodes[c].n + ' ' + size(data.nodes[c].b);
        var clip = Math.floor((k[3] - 8) / 7);
        if (t.textContent.length > clip) t.textContent = t.textContent.slice(0, Math.max(clip - 1, 1)) + '…';
        g.appendChild(t);
      }
      svg.appendChild(g);
    });
    trail(id);
  }
  show(0);
}());
