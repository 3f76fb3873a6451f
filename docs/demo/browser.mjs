// The demo page in a real browser: serve a built site on 127.0.0.1, open demo/ in headless Chromium
// (playwright-core, the system's Chromium), give the page each photo, save the masks it computed; then stop the
// server and do it again offline (the service worker's copy). Used by tests/test_demo_browser.py and check.py.
//   node docs/demo/browser.mjs SITE OUT PHOTO...  ->  OUT/result.json, OUT/<photo>.mask (H×W bytes), OUT/*.png
import {chromium} from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';

const [site, out, ...photos] = process.argv.slice(2);
const TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
               '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png'};
const served = {};             // path -> {bytes, gzip (about what GitHub Pages sends; .onnx it sends as is), requests}
const server = http.createServer((req, res) => {
  let file = path.join(site, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (file.endsWith(path.sep)) file = path.join(file, 'index.html');
  if (!file.startsWith(path.resolve(site)) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404); return res.end();
  }
  const body = fs.readFileSync(file), key = path.relative(site, file);
  const gzip = path.extname(file) === '.onnx' ? body.length : zlib.gzipSync(body).length;
  served[key] = {bytes: body.length, gzip, requests: (served[key]?.requests ?? 0) + 1};
  res.writeHead(200, {'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache'});
  res.end(body);
});
await new Promise(ok => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`, url = `${origin}/demo/index.html?backend=wasm`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync']});        // playwright gives it a fresh user-data-dir
const page = await (await browser.newContext({viewport: {width: 1200, height: 900}})).newPage();
const errors = [], result = {url, photos: [], errors};
page.on('console', m => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
page.on('pageerror', e => errors.push(`page error: ${e.message}`));
page.on('requestfailed', r => errors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
page.on('response', r => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
page.on('request', r => { if (!/^(data|blob):/.test(r.url()) && !r.url().startsWith(origin)) errors.push(`request to the internet: ${r.url()}`); });

async function segment(photo, label) {    // choose the photo in the page's file input; wait for its mask
  const runs = await page.evaluate(() => window.facenbDemo.runs);
  const t0 = Date.now();
  await page.setInputFiles('#file', photo);
  await page.waitForFunction(n => window.facenbDemo.runs > n, runs, {timeout: 120000});
  const wall = Date.now() - t0;
  return {...await readMask(label), wall_ms: wall};
}
async function readMask(label) {          // the page's last mask, saved as OUT/<label>.mask
  const last = await page.evaluate(() => {
    const {mask, ...rest} = window.facenbDemo.last;
    let s = '';
    for (let i = 0; i < mask.length; i += 0x8000) s += String.fromCharCode(...mask.subarray(i, i + 0x8000));
    return {...rest, mask: btoa(s)};
  });
  const file = path.join(out, `${label}.mask`);
  fs.writeFileSync(file, Buffer.from(last.mask, 'base64'));
  return {...last, mask: file};
}
const setThreshold = t => page.$eval('#threshold', (el, t) => { el.value = t; el.dispatchEvent(new Event('input', {bubbles: true})); }, t);
const ready = () => page.evaluate(() => window.facenbDemo.ready.then(() => document.querySelector('#status').textContent));

try {
  const t0 = Date.now();
  await page.goto(url);
  result.status = await ready();
  result.ready_ms = Date.now() - t0;                  // page, runtime and model loaded
  for (const [i, photo] of photos.entries()) {
    result.photos.push({photo, ...await segment(photo, `photo${i}`)});
    if (i === 0) {
      result.first_mask_ms = Date.now() - t0;         // from opening the page to the first mask on screen
      await page.screenshot({path: path.join(out, 'screenshot.png'), fullPage: true});
      await setThreshold('0.9');                      // the slider: the same probabilities, another threshold
      result.threshold_09 = await readMask('photo0-0.9');
      await setThreshold(String(result.photos[0].threshold));
    }
  }
  result.warm = await segment(photos[0], 'warm');      // the first photo again: the model already warm
  await page.check('input[value=blur]');
  await page.screenshot({path: path.join(out, 'screenshot-blur.png'), fullPage: true});
  result.served = served;
  // offline: no server at all; the service worker's copies must be enough
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  server.closeAllConnections(); await new Promise(ok => server.close(ok));
  await page.reload();
  result.offline_status = await ready();
  result.offline = await segment(photos[0], 'offline');
} catch (e) {
  errors.push(`check: ${e.message}`);
  await page.screenshot({path: path.join(out, 'screenshot.png'), fullPage: true}).catch(() => {});
} finally {
  fs.writeFileSync(path.join(out, 'result.json'), JSON.stringify(result, null, 1));
  await browser.close();
  server.close();
}
