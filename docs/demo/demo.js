// facenb's people model in the browser: the steps of `OnnxPredictor.predict_batch` (facenb/inference.py) in JavaScript,
// so that the mask on this page is the mask `facenb predict` writes. Lesson 15 (deploy) explains this file.
const $ = id => document.getElementById(id);

// 1. Where the photo goes in the model's frame: `facenb.loaders.fit_box`.
const frameOf = size => size.map(s => Math.ceil(s / 32) * 32);    // the exported size, rounded up to multiples of 32
const roundEven = x => { const r = Math.round(x); return r - x === 0.5 && r % 2 ? r - 1 : r; };  // Python's round()

export function fitBox([h, w], size) {
  const [H, W] = frameOf(size), s = Math.min(size[0] / h, size[1] / w);
  const height = Math.max(1, roundEven(h * s)), width = Math.max(1, roundEven(w * s));
  return {top: Math.floor((H - height) / 2), left: Math.floor((W - width) / 2), height, width};
}

// 2. Resizing as `cv2.resize` does: each output pixel is a weighted sum of input pixels, along rows, then columns.
//    The weights along one axis (n input pixels, m output pixels) are taps [output, input, weight].
export function areaTaps(n, m) {          // cv2.INTER_AREA when shrinking: the input pixels an output cell covers, by how much
  const f = Math.fround, scale = 1 / (m / n), taps = [];
  for (let d = 0; d < m; d++) {
    const f1 = d * scale, f2 = f1 + scale, cell = Math.min(scale, n - f1);
    const s2 = Math.min(Math.floor(f2), n - 1), s1 = Math.min(Math.ceil(f1), s2);
    if (s1 - f1 > 1e-3) taps.push([d, s1 - 1, f((s1 - f1) / cell)]);
    for (let s = s1; s < s2; s++) taps.push([d, s, f(1 / cell)]);
    if (f2 - s2 > 1e-3) taps.push([d, s2, f(Math.min(f2 - s2, 1, cell) / cell)]);
  }
  return taps;
}
export function linearTaps(n, m, area = false) {   // cv2.INTER_LINEAR: the two nearest inputs (INTER_AREA enlarging: its offsets)
  const f = Math.fround, scale = 1 / (m / n), taps = [];
  for (let d = 0; d < m; d++) {
    let s, x;
    if (area) { s = Math.floor(d * scale); x = f(d + 1 - (s + 1) * (m / n)); x = x <= 0 ? 0 : f(x - Math.floor(x)); }
    else { x = f((d + 0.5) * scale - 0.5); s = Math.floor(x); x = f(x - s); }
    if (s < 0) [s, x] = [0, 0];
    if (s >= n - 1) [s, x] = [n - 1, 0];
    taps.push([d, s, f(1 - x)], [d, Math.min(s + 1, n - 1), x]);
  }
  return taps;
}
function separable(src, [h, w], stride, channels, nw, xt, yt, Sum = Float32Array) {  // rows, then columns (if yt)
  const f = Sum === Float32Array ? Math.fround : x => x, rw = nw * channels, rows = new Sum(h * rw);
  for (let y = 0; y < h; y++)
    for (const [d, s, a] of xt) {
      const o = y * rw + d * channels, i = (y * w + s) * stride;
      for (let c = 0; c < channels; c++) rows[o + c] += f(src[i + c] * a);
    }
  if (!yt) return rows;
  const out = new Sum((yt.at(-1)[0] + 1) * rw);
  for (const [d, s, b] of yt) {
    const o = d * rw, i = s * rw;
    for (let k = 0; k < rw; k++) out[o + k] += f(rows[i + k] * b);
  }
  return out;
}
export function resizeArea(rgba, [h, w], [nh, nw]) {   // cv2.resize(photo, (nw, nh), interpolation=cv2.INTER_AREA): RGB
  if (nh > h || nw > w) {    // enlarging: linear interpolation in 11-bit fixed point, at INTER_AREA's offsets
    const fixed = taps => taps.map(([d, s, a]) => [d, s, roundEven(a * 2048)]);
    const rows = separable(rgba, [h, w], 4, 3, nw, fixed(linearTaps(w, nw, true)), null, Int32Array);
    const yt = fixed(linearTaps(h, nh, true)), rw = nw * 3, out = new Uint8Array(nh * rw);
    for (let d = 0; d < nh; d++) {
      const [[, s0, b0], [, s1, b1]] = [yt[2 * d], yt[2 * d + 1]];
      for (let i = 0; i < rw; i++) out[d * rw + i] = ((b0 * (rows[s0 * rw + i] >> 4) >> 16) + (b1 * (rows[s1 * rw + i] >> 4) >> 16) + 2) >> 2;
    }
    return out;
  }
  const kx = w / nw, ky = h / nh;
  if (Number.isInteger(kx) && Number.isInteger(ky)) {    // whole factors: the sum of each kx×ky block, then the mean
    const ones = (n, k) => Array.from({length: n}, (_, s) => [Math.floor(s / k), s, 1]);
    const sums = separable(rgba, [h, w], 4, 3, nw, ones(w, kx), ones(h, ky), Int32Array), k = kx * ky;
    return k === 4 ? Uint8Array.from(sums, s => (s + 2) >> 2) : Uint8ClampedArray.from(sums, s => Math.fround(s * Math.fround(1 / k)));
  }
  return Uint8ClampedArray.from(separable(rgba, [h, w], 4, 3, nw, areaTaps(w, nw), areaTaps(h, nh)));  // rounds as cv2
}
export const flatTaps = taps => ({d: Int32Array.from(taps, t => t[0]), s: Int32Array.from(taps, t => t[1]), a: Float32Array.from(taps, t => t[2])});
const linearResizers = new Map();    // one per pair of sizes: its taps made once, flat in typed arrays (a stream of frames)
function linearResizer([h, w], [nh, nw]) {
  const key = [h, w, nh, nw].join();
  if (linearResizers.has(key)) return linearResizers.get(key);
  const {d: xd, s: xs, a: xa} = flatTaps(linearTaps(w, nw)), {d: yd, s: ys, a: ya} = flatTaps(linearTaps(h, nh)), f = Math.fround;
  const resize = src => {    // `separable`'s sums, in its order: the same float32 numbers
    const rows = new Float32Array(h * nw), out = new Float32Array(nh * nw);
    for (let y = 0; y < h; y++) { const o = y * nw, i = y * w; for (let k = 0; k < xd.length; k++) rows[o + xd[k]] += f(src[i + xs[k]] * xa[k]); }
    for (let k = 0; k < yd.length; k++) { const o = yd[k] * nw, i = ys[k] * nw, b = ya[k]; for (let j = 0; j < nw; j++) out[o + j] += f(rows[i + j] * b); }
    return out;
  };
  linearResizers.set(key, resize);
  return resize;
}
export const resizeLinear = (src, [h, w], [nh, nw]) => linearResizer([h, w], [nh, nw])(src);   // cv2.resize(probabilities, (nw, nh)): float32, one channel

// 3. Edges at the photo's resolution: `facenb.inference.guided_filter` (He et al.'s fast guided filter, gray guide).
//    The guide is OpenCV's RGB to gray (15-bit fixed point, as cv2.cvtColor rounds) over 255; the window means are
//    sums over the window divided by the number of its pixels inside the photo (cumulative sums here, a box filter there).
export function grayGuide(rgba, n) {
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = ((rgba[4 * i] * 9798 + rgba[4 * i + 1] * 19235 + rgba[4 * i + 2] * 3735 + 16384) >> 15) / 255;
  return g;
}
function boxMean(a, h, w, r) {        // Float64Array h×w -> the mean over each (2r+1)×(2r+1) window cut at the borders
  const W = w + 1, S = new Float64Array((h + 1) * W), out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0, row = 0; x < w; x++) { row += a[y * w + x]; S[(y + 1) * W + x + 1] = S[y * W + x + 1] + row; }
  for (let y = 0; y < h; y++) {
    const y0 = Math.max(0, y - r), y1 = Math.min(h, y + r + 1);
    for (let x = 0; x < w; x++) {
      const x0 = Math.max(0, x - r), x1 = Math.min(w, x + r + 1);
      out[y * w + x] = (S[y1 * W + x1] - S[y0 * W + x1] - S[y1 * W + x0] + S[y0 * W + x0]) / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}
export function refineGrid([h, w], {radius = 8, subsample = 4} = {}) {   // the subsampled grid the filter is fitted on
  const s = Math.max(1, subsample);
  return {s, hs: Math.ceil(h / s), ws: Math.ceil(w / s), r: Math.max(1, roundEven(radius / s))};
}
export function guidedCoefficients(I, P, {hs, ws, r}, eps = 1e-3) {    // guide and p on the grid -> the mean a and b of each pixel
  const n = hs * ws, IP = new Float64Array(n), II = new Float64Array(n);
  for (let k = 0; k < n; k++) { IP[k] = I[k] * P[k]; II[k] = I[k] * I[k]; }
  const mI = boxMean(I, hs, ws, r), mP = boxMean(P, hs, ws, r), mIP = boxMean(IP, hs, ws, r), mII = boxMean(II, hs, ws, r);
  const a = new Float64Array(n), b = new Float64Array(n);
  for (let k = 0; k < n; k++) { a[k] = (mIP[k] - mI[k] * mP[k]) / (mII[k] - mI[k] * mI[k] + eps); b[k] = mP[k] - a[k] * mI[k]; }
  return {a: Float32Array.from(boxMean(a, hs, ws, r)), b: Float32Array.from(boxMean(b, hs, ws, r))};
}
export function guidedFilter(guide, p, [h, w], {radius = 8, eps = 1e-3, subsample = 4} = {}) {
  const grid = refineGrid([h, w], {radius, subsample}), {s, hs, ws} = grid;
  const I = new Float64Array(hs * ws), P = new Float64Array(hs * ws);
  for (let y = 0; y < hs; y++) for (let x = 0; x < ws; x++) { I[y * ws + x] = guide[y * s * w + x * s]; P[y * ws + x] = p[y * s * w + x * s]; }
  const {a, b} = guidedCoefficients(I, P, grid, eps);    // every s-th pixel: guide[::s, ::s]
  const A = resizeLinear(a, [hs, ws], [h, w]), B = resizeLinear(b, [hs, ws], [h, w]);
  const q = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) q[i] = Math.fround(A[i] * guide[i]) + B[i];
  return q;
}

// 4. The model: onnxruntime-web, served with this page (never from a CDN); WebGPU where the browser has it.
async function loadModel() {
  const params = new URLSearchParams(location.search);
  const info = await (await fetch('model.json')).json();
  if (!info.model) throw Object.assign(new Error(info.notice), {notice: true});
  const gpu = params.get('backend') !== 'wasm' && navigator.gpu && await navigator.gpu.requestAdapter().catch(() => null);
  const ort = await import(gpu ? './ort/ort.webgpu.min.mjs' : './ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = new URL('ort/', import.meta.url).href;
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;  // GitHub Pages: 1
  const session = await ort.InferenceSession.create(info.model, {
    executionProviders: gpu ? ['webgpu', 'wasm'] : ['wasm'], logSeverityLevel: 3});   // errors only in the console
  return {...info, ort, session, backend: gpu ? 'WebGPU' : 'WebAssembly', threads: ort.env.wasm.numThreads};
}

// 5. One photo (or one camera frame): fit it in the frame and pad with zeros (`fit_photo`), run the model, bring the
//    probabilities back to the photo's size, refine their edges with the photo as the guide when the model's file
//    asks for it (`facenb.refine`), and clip to [0, 1]: `OnnxPredictor.predict_batch`. `prob` is the cut-out's alpha;
//    the mask is `prob >= threshold`. `image` is an ImageData (or anything with data, width, height: RGBA bytes).
export async function segment(model, {data, width: w, height: h}) {
  const [H, W] = model.frame, box = fitBox([h, w], model.size);
  const fitted = resizeArea(data, [h, w], [box.height, box.width]);
  const x = new Float32Array(3 * H * W);     // N×3×H×W in [0, 1], zeros around the photo (the padding)
  for (let y = 0; y < box.height; y++) for (let i = 0; i < box.width; i++) for (let c = 0; c < 3; c++)
    x[(c * H + box.top + y) * W + box.left + i] = fitted[(y * box.width + i) * 3 + c] / 255;
  const t0 = performance.now();
  const {probabilities} = await model.session.run({image: new model.ort.Tensor('float32', x, [1, 3, H, W])}, ['probabilities']);
  const ms = performance.now() - t0;
  if (probabilities.dims[1] !== 1) throw new Error('this page shows person/background models (one probability), not ' + model.classes);
  const crop = new Float32Array(box.height * box.width);
  for (let y = 0; y < box.height; y++) {
    const start = (box.top + y) * W + box.left;
    crop.set(probabilities.data.subarray(start, start + box.width), y * box.width);
  }
  let prob = resizeLinear(crop, [box.height, box.width], [h, w]);
  if (model.refine) prob = guidedFilter(grayGuide(data, h * w), prob, [h, w], model.refine);
  return {prob: prob.map(p => Math.min(1, Math.max(0, p))), ms};
}

// 6. What the reader sees: the mask, the cut-out (transparent or on a colour), or the background blurred; the cut-out
//    and the blur take the (refined) probability as alpha, as `facenb predict --mode cutout` does.
function show(state) {
  const {image, prob} = state, {width: w, height: h} = image, threshold = +$('threshold').value;
  const mask = state.mask = Uint8Array.from(prob, p => p >= threshold);
  const canvas = $('result'), ctx = canvas.getContext('2d'), view = document.querySelector('[name=view]:checked').value;
  [canvas.width, canvas.height] = [w, h];
  $('threshold-value').value = threshold.toFixed(2);
  const pixels = new ImageData(new Uint8ClampedArray(image.data), w, h);
  const d = pixels.data;
  for (let i = 0; i < mask.length; i++)
    if (view === 'mask') d[4 * i] = d[4 * i + 1] = d[4 * i + 2] = mask[i] * 255; else d[4 * i + 3] = Math.round(prob[i] * 255);
  const layer = new OffscreenCanvas(w, h);
  layer.getContext('2d').putImageData(pixels, 0, 0);
  ctx.clearRect(0, 0, w, h);
  if (view === 'blur') { ctx.filter = `blur(${$('blur').value}px)`; ctx.drawImage($('photo'), 0, 0); ctx.filter = 'none'; }
  if (view === 'cutout' && !$('transparent').checked) { ctx.fillStyle = $('bg').value; ctx.fillRect(0, 0, w, h); }
  ctx.drawImage(layer, 0, 0);
  canvas.toBlob(blob => { URL.revokeObjectURL($('download').href); $('download').href = URL.createObjectURL(blob); });
  Object.assign(window.facenbDemo.last ?? {}, {mask, threshold});
}

async function readPhoto(file) {    // the pixels as decoded, like PIL in Python: no colour profile applied
  const bitmap = await createImageBitmap(file, {imageOrientation: 'from-image', colorSpaceConversion: 'none'});
  const canvas = $('photo'), ctx = canvas.getContext('2d', {willReadFrequently: true});
  [canvas.width, canvas.height] = [bitmap.width, bitmap.height];
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
}

async function main() {
  const status = msg => { $('status').textContent = msg; };
  let model;
  try { model = await loadModel(); }
  catch (e) {
    if (!e.notice) throw e;
    Object.assign($('notice'), {hidden: false, textContent: e.message});
    return status('Nothing to run: the page needs the people model.');
  }
  window.facenbDemo.model = model;                  // the camera mode (camera.js) runs the same session
  $('threshold').value = model.threshold;
  status(`Model ready (${(model.bytes / 1e6).toFixed(1)} MB, ${model.backend}, ${model.threads} thread${model.threads > 1 ? 's' : ''}): ` +
         'drop a photo. It stays on your machine.');
  const state = {};
  const run = async file => {
    if (!file) return;
    const t0 = performance.now();
    state.image = await readPhoto(file);
    const readMs = performance.now() - t0;
    status(`Segmenting ${file.name}…`);
    const {prob, ms} = await segment(model, state.image);
    state.prob = prob;
    window.facenbDemo.last = {name: file.name, width: state.image.width, height: state.image.height, ms, readMs, backend: model.backend};
    $('controls').disabled = false;
    const t1 = performance.now();
    show(state);
    Object.assign(window.facenbDemo.last, {totalMs: performance.now() - t0, showMs: performance.now() - t1});
    window.facenbDemo.runs += 1;
    status(`${file.name}, ${state.image.width}×${state.image.height}: the person is cut out.`);
    $('timing').textContent = `The model took ${ms.toFixed(0)} ms (${model.backend}); ` +
                              `all steps ${(performance.now() - t0).toFixed(0)} ms, in this page.`;
  };
  const guarded = file => run(file).catch(e => { status(`Could not segment ${file.name}: ${e.message}`); console.error(e); });
  $('file').addEventListener('change', e => guarded(e.target.files[0]));
  const drop = $('drop');
  drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', e => { e.preventDefault(); drop.classList.remove('over'); guarded(e.dataTransfer.files[0]); });
  $('controls').addEventListener('input', () => state.prob && show(state));
}

if (typeof document !== 'undefined') {            // the page (Node.js imports the functions above to test them)
  window.facenbDemo = {runs: 0, last: null};     // what the browser test reads (tests/test_demo_browser.py)
  window.facenbDemo.ready = main().finally(() =>     // then keep copies for offline use (docs/demo/sw.js)
    'serviceWorker' in navigator && navigator.serviceWorker.register('sw.js').catch(() => {}));
}
