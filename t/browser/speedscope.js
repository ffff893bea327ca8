#!/usr/bin/env node
// Checks a `memprof export --format speedscope` file for t/72-export.t,
// with speedscope's own schema and page from its npm package.  Prints one
// JSON object of what it found; the Perl test makes the assertions.
//
//   node speedscope.js validate FILE        the schema's verdict and errors
//   node speedscope.js open FILE SHOTS      what speedscope's page shows of it
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');

const release = path.join(path.dirname(require.resolve('speedscope/package.json')), 'dist', 'release');

function validate(file) {
  const Ajv = require('ajv');
  const schema = JSON.parse(fs.readFileSync(path.join(release, 'file-format-schema.json'), 'utf8'));
  // The schema's root is a $ref into its definitions, as typescript-json-schema writes it.
  const ajv = new Ajv({ allErrors: true, strict: false });
  const check = ajv.compile(schema);
  const valid = check(JSON.parse(fs.readFileSync(file, 'utf8')));
  return { valid, errors: check.errors || [], schema_ref: schema.$ref || null };
}

// speedscope's page loads a local profile as its command line does: a
// script calling speedscope.loadFileFromBase64, named in the URL's hash.
async function open(file, shots) {
  const { chromium } = require('playwright-core');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memprof-speedscope-'));
  const loader = path.join(tmp, 'profile.js');
  const b64 = fs.readFileSync(file).toString('base64');
  fs.writeFileSync(loader, `speedscope.loadFileFromBase64(${JSON.stringify(path.basename(file))}, ${JSON.stringify(b64)})`);
  const log = { console: [], network: [] };
  const context = await chromium.launchPersistentContext(path.join(tmp, 'chromium'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
    viewport: { width: 1400, height: 900 },
  });
  context.setDefaultTimeout(30000);
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => { if (m.type() === 'error') log.console.push(m.text()); });
    page.on('pageerror', (e) => log.console.push('uncaught: ' + e.message));
    page.on('request', (r) => { if (!r.url().startsWith('file:')) log.network.push(r.url()); });
    // The page prefixes file:/// itself.
    const hash = '#localProfilePath=' + loader.replace(/^\/+/, '') + '&view=sandwich';
    await page.goto(pathToFileURL(path.join(release, 'index.html')).href + hash);
    // The sandwich view lists every frame in a table, as text (the flame
    // graphs are drawn on a canvas).
    await page.waitForFunction((name) => document.body.innerText.includes(name), 'main::bar', { polling: 100 });
    log.title = await page.title();
    log.text = await page.evaluate(() => document.body.innerText);
    await page.screenshot({ path: path.join(shots, 'speedscope-sandwich.png') });
    // The flame graph of the selected profile, for a person to look at.
    await page.keyboard.press('2');
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(shots, 'speedscope-left-heavy.png') });
  } finally {
    await context.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return log;
}

const [what, ...args] = process.argv.slice(2);
const work = { validate, open }[what];
if (!work) {
  console.error('usage: speedscope.js validate FILE | open FILE SHOTS');
  process.exit(2);
}
Promise.resolve()
  .then(() => work(...args))
  .then((r) => console.log(JSON.stringify(r)))
  .catch((e) => {
    console.log(JSON.stringify({ error: String(e && e.stack || e) }));
    process.exit(1);
  });
