// memprof: added to inferno's flame graph.  A double-click opens the frame's
// source line (the data-href memprof put on each frame), and the report
// page's search box reaches this graph as a message.
(function () {
  function link(e) {
    var g = find_group(e.target);
    return g ? g.getAttribute('data-href') : null;
  }
  // Registered before inferno's own (which init() adds on load): while the
  // graph has no width (a collapsing frame), inferno would give its frames
  // a negative one.
  window.addEventListener('resize', function (e) {
    if (window.innerWidth <= 2 * xpad) e.stopImmediatePropagation();
  });
  window.addEventListener('dblclick', function (e) {
    var href = link(e);
    if (!href) return;
    var url = new URL(href, location.href).href;
    // The top page when shown in the report, this one when opened alone.
    try { window.top.location.href = url; } catch (err) { window.location.href = url; }
  });
  window.addEventListener('mouseover', function (e) {
    if (link(e) && details) details.nodeValue += ' (double-click: source)';
  });
  window.addEventListener('message', function (e) {
    var d = e.data;
    if (!d || d.memprof !== 'search' || typeof d.term !== 'string') return;
    if (searching) search_prompt(); // inferno's way to reset a search
    if (d.term === '') return;
    try { search(d.term); } catch (err) { /* not a regular expression */ }
    if (!searching) {
      matchedtxt.classList.remove('hide');
      matchedtxt.firstChild.nodeValue = 'No match';
    }
  });
})();
