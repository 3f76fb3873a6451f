// The demo page's camera mode in a real browser: serve a built site on 127.0.0.1 as static hosting does (no
// special headers), open demo/ in headless Chromium whose fake camera plays CLIP (a .y4m file, looped), press
// "Start the camera" (the page reloads once under its service worker, cross-origin isolated), let it run, read
// the frames per second the page measures, then record RECORD consecutive frames: the pixels the page read and the
// masks it computed. Used by docs/demo/camera_check.py and tests/test_demo_camera.py.
//   node docs/demo/camera.mjs SITE OUT CLIP.y4m [SECONDS] [RECORD]
//     ->  OUT/result.json, OUT/frameK.rgba (H×W×4 bytes), OUT/frameK.mask (H×W bytes), OUT/camera.png
import {chromium} from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [site, out, clip, seconds = '8', record = '5'] = process.argv.slice(2);
const TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
               '.json': 'application/json', '.wasm': 'application/wasm', '.jpg': 'image/jpeg'};
const server = http.createServer((req, res) => {
  let file = path.join(site, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (file.endsWith(path.sep)) file = path.join(file, 'index.html');
  if (!file.startsWith(path.resolve(site)) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) { res.writeHead(404); return res.end(); }
  res.writeHead(200, {'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache'});
  res.end(fs.readFileSync(file));
});
await new Promise(ok => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`, url = `${origin}/demo/index.html?backend=wasm`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream',
         '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${path.resolve(clip)}`]});
const page = await (await browser.newContext({viewport: {width: 1200, height: 1400}})).newPage();
const errors = [], result = {url, errors};
page.on('console', m => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
page.on('pageerror', e => errors.push(`page error: ${e.message}`));
page.on('requestfailed', r => errors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
page.on('response', r => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
page.on('request', r => { if (!/^(data|blob):/.test(r.url()) && !r.url().startsWith(origin)) errors.push(`request to the internet: ${r.url()}`); });

const camera = () => page.evaluate(() => { const {recorded, stream, ...rest} = window.facenbCamera ?? {}; return rest; });
try {
  await page.goto(url);
  result.status = await page.evaluate(() => window.facenbDemo.ready.then(() => document.querySelector('#status').textContent));
  result.samples = await page.$$eval('#samples button', bs => bs.map(b => b.textContent));
  if (result.samples.length) {        // a sample photo, for a visitor without one: it goes through the photo path
    await page.click('#samples button');
    await page.waitForFunction(() => window.facenbDemo.runs >= 1, null, {timeout: 120000});
    result.sample = await page.evaluate(() => { const {mask, ...rest} = window.facenbDemo.last; return {...rest, mean: mask.reduce((a, b) => a + b, 0) / mask.length}; });
  }
  await page.waitForFunction(() => navigator.serviceWorker.controller, null, {timeout: 60000});
  result.isolated_before = await page.evaluate(() => self.crossOriginIsolated);
  if (result.isolated_before) await page.click('#camera-start');    // else the page reloads itself under the worker
  else await Promise.all([page.waitForEvent('load', {timeout: 60000}), page.click('#camera-start')]);
  await page.waitForFunction(() => window.facenbCamera?.frames >= 10, null, {timeout: 120000});
  result.isolated = await page.evaluate(() => self.crossOriginIsolated);
  // the page's own measure: frames counted by the page over SECONDS of its own clock, and its running display
  const start = await page.evaluate(() => ({frames: window.facenbCamera.frames, t: performance.now()}));
  await page.waitForTimeout(1000 * +seconds);
  const end = await page.evaluate(() => ({frames: window.facenbCamera.frames, t: performance.now()}));
  result.fps = (end.frames - start.frames) / ((end.t - start.t) / 1000);
  result.camera = await camera();
  result.shown = await page.$eval('#camera-fps', el => el.textContent);
  await page.screenshot({path: path.join(out, 'camera.png'), fullPage: true});
  // RECORD consecutive frames, from an unsmoothed one: the pixels the page read and its masks
  await page.evaluate(n => { window.facenbCamera.recorded = []; window.facenbCamera.toRecord = n; }, +record);
  await page.waitForFunction(n => window.facenbCamera.recorded.length >= n, +record, {timeout: 120000});
  result.frames = [];
  for (let k = 0; k < +record; k++) {
    const {image, mask} = await page.evaluate(k => {
      const b64 = a => { let s = ''; for (let i = 0; i < a.length; i += 0x8000) s += String.fromCharCode(...a.subarray(i, i + 0x8000)); return btoa(s); };
      const r = window.facenbCamera.recorded[k];
      return {image: b64(r.image), mask: b64(r.mask)};
    }, k);
    fs.writeFileSync(path.join(out, `frame${k}.rgba`), Buffer.from(image, 'base64'));
    fs.writeFileSync(path.join(out, `frame${k}.mask`), Buffer.from(mask, 'base64'));
    result.frames.push({image: `frame${k}.rgba`, mask: `frame${k}.mask`});
  }
  await page.click('#camera-stop');
  await page.waitForFunction(() => !window.facenbCamera.running && document.querySelector('#camera-status').textContent === 'Camera off.');
} catch (e) {
  errors.push(`check: ${e.message}`);
  await page.screenshot({path: path.join(out, 'camera.png'), fullPage: true}).catch(() => {});
} finally {
  fs.writeFileSync(path.join(out, 'result.json'), JSON.stringify(result, null, 1));
  await browser.close();
  server.close();
}
