#!/usr/bin/env node
// Drives Debian's chromium (through playwright-core, no downloaded browser)
// over a `memprof html` report for t/50-html.t.  It does what a person would
// (click, search, follow links), records what the pages show, and prints it
// as one JSON object: the Perl test makes the assertions.
//
//   node check.js moose  DIR SHOTS   index, flame graph search, zoom, links
//   node check.js escape DIR         every page: no injected element, no dialog
//   node check.js big    PAGE SHOTS  how long a big source page takes to render
//   node check.js treemap DIR SHOTS  heap.html: the largest rectangle, zoom, trail, hover
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');
const { chromium } = require('playwright-core');

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const url = (file) => pathToFileURL(path.resolve(file)).href;

// Everything a page says that a person would not want to see.
function watch(page, log) {
  page.on('console', (m) => { if (m.type() === 'error') log.console.push(m.text()); });
  page.on('pageerror', (e) => log.console.push('uncaught: ' + e.message));
  page.on('dialog', (d) => { log.dialogs.push(d.type() + ': ' + d.message()); d.dismiss().catch(() => {}); });
  page.on('request', (r) => { if (!r.url().startsWith('file:')) log.network.push(r.url()); });
}

async function withBrowser(work) {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memprof-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ARGS,
    viewport: { width: 1400, height: 900 },
  });
  context.setDefaultTimeout(30000);
  const log = { console: [], dialogs: [], network: [] };
  try {
    const page = context.pages()[0] || (await context.newPage());
    watch(page, log);
    Object.assign(log, await work(page, log));
  } finally {
    await context.close();
    fs.rmSync(profileDir, { recursive: true, force: true });
  }
  return log;
}

// The flame graph's document, once inferno's init() has drawn it.
async function flameFrame(page, name) {
  let frame;
  for (let i = 0; i < 300 && !frame; i++) {
    frame = page.frames().find((f) => f.url().endsWith('/' + name));
    if (!frame) await page.waitForTimeout(100);
  }
  if (!frame) throw new Error(name + ' never loaded');
  // Poll on a timer: Chromium throttles animation frames in an iframe it
  // thinks is out of sight, and the default polling waits on them.
  await frame.waitForFunction(() => typeof search === 'function' && typeof frames !== 'undefined'
    && frames && frames.children.length > 0, null, { polling: 100 });
  return frame;
}

async function moose(page, dir, shots) {
  const r = {};
  await page.goto(url(path.join(dir, 'index.html')));
  r.title = await page.title();
  r.rows = await page.evaluate(() => {
    const n = (id) => document.querySelectorAll('#' + id + ' tbody tr').length;
    return { subs: n('subs'), lines: n('lines'), files: n('files') };
  });
  r.index_timing = await page.evaluate(() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd);
  await page.screenshot({ path: path.join(shots, 'index.png') });

  // Sorting: "alloc excl." puts the largest own allocation first.
  const header = page.locator('#subs thead th', { hasText: 'alloc excl.' });
  await header.click();
  r.sorted = await page.evaluate(() => {
    const table = document.getElementById('subs');
    const col = Array.from(table.tHead.rows[0].cells).findIndex((th) => th.textContent.startsWith('alloc excl.'));
    const values = Array.from(table.tBodies[0].rows).map((tr) => Number(tr.cells[col].dataset.v));
    return { first: values[0], max: Math.max(...values), descending: values.every((v, i) => i === 0 || values[i - 1] >= v) };
  });

  // The net flame graph loads as it scrolls into view, and hears the search box.
  await page.locator('#flames').scrollIntoViewIfNeeded();
  const frame = await flameFrame(page, 'flame-net.svg');
  r.flame = { frames: await frame.evaluate(() => frames.children.length) };
  r.flame.matched_before = await frame.evaluate(() => document.getElementById('matched').textContent);
  await page.fill('#fgterm', 'Moose');
  await page.click('#fgsearch button[type=submit]');
  await frame.waitForFunction((before) => document.getElementById('matched').textContent !== before,
    r.flame.matched_before, { polling: 100 });
  r.flame.matched_after = await frame.evaluate(() => document.getElementById('matched').textContent);
  r.flame.highlighted = await frame.evaluate(() =>
    Array.from(document.querySelectorAll('#frames rect')).filter((e) => e.getAttribute('fill') === searchcolor).length);
  await page.evaluate(() => document.getElementById('flames').scrollIntoView());
  await page.screenshot({ path: path.join(shots, 'index-flames.png') });

  // Click to zoom on the compilation of the script; double-click opens its page.
  const target = await frame.evaluate(() => {
    const g = Array.from(frames.children).find((e) => /^compile \S*moose\.pl /.test(g_to_text(e)));
    if (!g) return null;
    g.id = 'memprof-test-frame';
    return g.getAttribute('data-href');
  });
  r.flame.target_href = target;
  if (target) {
    await frame.click('#memprof-test-frame');
    r.flame.zoomed = await frame.evaluate(() => ({
      unzoom_shown: !document.getElementById('unzoom').classList.contains('hide'),
      width: document.querySelector('#memprof-test-frame rect').getAttribute('width'),
    }));
    await Promise.all([
      page.waitForURL((u) => u.href.endsWith('/' + target)),
      frame.dblclick('#memprof-test-frame'),
    ]);
    r.flame.dblclick_url = page.url();
  }

  // The first sub in the table opens its source page at the annotated line.
  await page.goto(url(path.join(dir, 'index.html')));
  r.sub = await page.evaluate(() => {
    for (const tr of document.querySelectorAll('#subs tbody tr')) {
      const kind = tr.querySelector('small.kind');
      const a = tr.querySelector('td:first-child a');
      if (kind && kind.textContent === 'sub' && a) {
        a.id = 'memprof-test-sub';
        return { name: a.textContent, href: a.getAttribute('href') };
      }
    }
    return null;
  });
  if (r.sub) {
    await Promise.all([
      page.waitForURL((u) => u.href.endsWith('/' + r.sub.href)),
      page.click('#memprof-test-sub'),
    ]);
    await page.waitForTimeout(200);
    r.landed = await page.evaluate(() => {
      const t = document.querySelector(':target');
      if (!t) return { hash: location.hash };
      const box = t.getBoundingClientRect();
      return {
        hash: location.hash,
        target: t.id,
        line: t.querySelector('a').textContent,
        note: Array.from(t.querySelectorAll('.sub-note b')).map((b) => b.textContent),
        in_view: box.top >= 0 && box.top < innerHeight,
        highlighted: getComputedStyle(t).outlineStyle !== 'none',
        links: t.querySelectorAll('.sub-note a').length,
      };
    });
    await page.screenshot({ path: path.join(shots, 'source.png') });
    await page.selectOption('#heat', 'alloc');
    r.heat_class = await page.evaluate(() => document.body.className);
  }
  return r;
}

// Every page of a small report: what the payload became.
async function escape(page, dir) {
  const payload = '</script><img src=x onerror=alert(';
  const names = fs.readdirSync(dir).filter((n) => n.endsWith('.html')).sort();
  const pages = {};
  for (const name of names) {
    await page.goto(url(path.join(dir, name)));
    await page.waitForTimeout(100);
    pages[name] = await page.evaluate((p) => ({
      title: document.title,
      heading: (document.querySelector('h1') || {}).textContent,
      injected: document.querySelectorAll('[onerror], img[src="x"], main script').length,
      payload_as_text: document.body.innerText.includes(p),
    }), payload);
  }
  return { pages };
}

// A big source page: from navigation to the first frame painted after load.
async function big(page, file, shots) {
  // As a person would come to it: from the report's index, the browser running.
  await page.goto(url(path.join(path.dirname(file), 'index.html')));
  const times = [];
  for (let i = 0; i < 2; i++) {
    await page.goto(url(file) + (i ? '?again' : ''));
    times.push(await page.evaluate(async () => {
      await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
      const nav = performance.getEntriesByType('navigation')[0];
      return { load: nav.loadEventEnd, painted: performance.now() };
    }));
  }
  const rows = await page.evaluate(() => document.querySelectorAll('.r[id]').length);
  const last = rows - 1;
  await page.goto(url(file) + '#L' + last);
  await page.waitForTimeout(200);
  const jump = await page.evaluate((n) => {
    const t = document.querySelector(':target');
    const box = t && t.getBoundingClientRect();
    return { target: t && t.id, in_view: !!box && box.top >= 0 && box.top < innerHeight, wanted: 'L' + n };
  }, last);
  await page.screenshot({ path: path.join(shots, 'big.png') });
  return { times, rows, jump };
}

// heap.html: which path the largest rectangle is, what clicking it shows.
async function treemap(page, dir, shots) {
  const r = {};
  await page.goto(url(path.join(dir, 'index.html')));
  r.link = await page.evaluate(() => (document.getElementById('heap-link') || {}).textContent || null);
  await Promise.all([page.waitForURL((u) => u.href.endsWith('/heap.html')), page.click('#heap-link')]);
  r.title = await page.title();
  const largest = () => {
    let best = null;
    for (const g of document.querySelectorAll('#treemap g[data-node]')) {
      const rect = g.querySelector('rect');
      const area = Number(rect.getAttribute('width')) * Number(rect.getAttribute('height'));
      if (!best || area > best.area) best = { area, path: g.dataset.path, node: g.dataset.node, zoomable: g.classList.contains('zoomable') };
    }
    return best;
  };
  r.rects = await page.evaluate(() => document.querySelectorAll('#treemap g').length);
  r.largest = await page.evaluate(largest);
  await page.hover(`#treemap g[data-node="${r.largest.node}"]`);
  r.hover = await page.evaluate(() => document.getElementById('hover').textContent);
  await page.screenshot({ path: path.join(shots, 'treemap.png') });
  await page.click(`#treemap g[data-node="${r.largest.node}"]`);
  r.zoomed = await page.evaluate(() => ({
    node: document.getElementById('treemap').dataset.node,
    trail: document.getElementById('crumbs').textContent,
    trail_path: document.getElementById('crumbs').dataset.path,
    rects: document.querySelectorAll('#treemap g').length,
  }));
  await page.screenshot({ path: path.join(shots, 'treemap-zoomed.png') });
  await page.click('#crumbs button.crumb');
  r.back = await page.evaluate(() => document.getElementById('treemap').dataset.node);
  r.ledger = await page.evaluate(() => ({
    segments: document.querySelectorAll('#ledger-bar .seg').length,
    rows: Array.from(document.querySelectorAll('#ledger tbody tr')).map((tr) => tr.dataset.row),
    width: Array.from(document.querySelectorAll('#ledger-bar .seg')).reduce((w, s) => w + s.getBoundingClientRect().width, 0),
    bar: document.getElementById('ledger-bar').getBoundingClientRect().width,
  }));
  r.tables = await page.evaluate(() => ({
    types: document.querySelectorAll('#types tbody tr').length,
    unreachable: Array.from(document.querySelectorAll('#unreachable tbody tr')).map((tr) => tr.cells[1].textContent),
  }));
  return r;
}

const [what, ...args] = process.argv.slice(2);
const work = { moose, escape, big, treemap }[what];
if (!work) {
  console.error('usage: check.js moose DIR SHOTS | escape DIR | big PAGE SHOTS | treemap DIR SHOTS');
  process.exit(2);
}
withBrowser((page) => work(page, ...args))
  .then((log) => console.log(JSON.stringify(log)))
  .catch((e) => {
    console.log(JSON.stringify({ error: String(e && e.stack || e) }));
    process.exit(1);
  });
