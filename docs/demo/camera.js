// The demo page's camera mode: the people model on the camera's frames, live, the background blurred or replaced,
// with the frames per second this page reaches. Each frame goes through the steps of `facenb.video.FrameSegmenter`
// and `MaskSmoother('mediapipe')` (chapter 18, video): fitted in the model's input, P(person) at the model's
// resolution, blended with the previous frame's where it is uncertain, then brought to the frame's size. The frames
// never leave the page: nothing is sent anywhere. Without a camera, a visitor tries the sample photos instead.
import {fitBox, resizeArea, areaTaps, linearTaps, flatTaps as flat, refineGrid, guidedCoefficients} from './demo.js';
const $ = id => document.getElementById(id);

// 1. MediaPipe's smoothing rule (`facenb.video.uncertainty` and `MaskSmoother`): where the new probability is
//    uncertain (near 0.5), keep `strength` of the previous frame's; where it is sure, take the new one.
const MP = [5.68842, -0.748699, -57.8051, 291.309, -624.717];
export function smooth(p, prev, strength = 0.9) {   // `MaskSmoother`'s default (record video-smoothing)
  if (!prev || prev.length !== p.length) return p;
  const [c1, c2, c3, c4, c5] = MP, f = Math.fround, out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const x = f((p[i] - 0.5) ** 2), u = 1 - Math.min(1, f(x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5))))));
    out[i] = p[i] + (prev[i] - p[i]) * f(u * strength);
  }
  return out;
}

// 2. The resizing of `demo.js` (cv2's, to the last bit), made fast for a stream of frames of one size: its taps
//    computed once, kept in typed arrays, and run with plain loops. Float32 sums in the same order, so the same
//    numbers as `resizeArea`, the frame shrinking by a fraction (a 640×480 frame to its 144×108 box in the model's
//    input) or by whole factors.
function pass(src, n, stride, channels, srcRow, dstRow, taps, out) {    // n rows (or columns) through the taps
  const {d, s, a} = taps, f = Math.fround;
  for (let r = 0; r < n; r++) {
    const i0 = r * srcRow, o0 = r * dstRow;
    for (let k = 0; k < d.length; k++) {
      const i = i0 + s[k] * stride, o = o0 + d[k] * channels, w = a[k];
      for (let c = 0; c < channels; c++) out[o + c] += f(src[i + c] * w);
    }
  }
  return out;
}
function wholeFactors([h, w], [nh, nw]) {    // `resizeArea`'s whole factors (640×480 to 160×120): each kx×ky block summed, then its mean
  const kx = w / nw, ky = h / nh, k = kx * ky, inv = Math.fround(1 / k), rw = nw * 3, sums = new Int32Array(rw);
  return rgba => {
    const out = new Uint8ClampedArray(nh * rw);     // rounds half to even, as cv2
    for (let y = 0; y < nh; y++) {
      sums.fill(0);
      for (let r = y * ky; r < (y + 1) * ky; r++)
        for (let x = 0, i = r * w * 4; x < nw; x++)
          for (let j = 0; j < kx; j++, i += 4) { sums[3 * x] += rgba[i]; sums[3 * x + 1] += rgba[i + 1]; sums[3 * x + 2] += rgba[i + 2]; }
      for (let j = 0; j < rw; j++) out[y * rw + j] = k === 4 ? (sums[j] + 2) >> 2 : Math.fround(sums[j] * inv);
    }
    return out;
  };
}
const fitters = new Map();
export function frameFitter([h, w], [nh, nw]) {     // rgba -> the fitted RGB bytes (cv2.INTER_AREA)
  const key = [h, w, nh, nw].join();
  if (fitters.has(key)) return fitters.get(key);
  const whole = Number.isInteger(w / nw) && Number.isInteger(h / nh), generic = nh <= h && nw <= w && !whole;
  const ax = flat(areaTaps(w, nw)), ay = flat(areaTaps(h, nh));
  const fit = whole ? wholeFactors([h, w], [nh, nw]) : !generic ? rgba => resizeArea(rgba, [h, w], [nh, nw]) : rgba => {
    const rows = pass(rgba, h, 4, 3, w * 4, nw * 3, ax, new Float32Array(h * nw * 3)), out = new Float32Array(nh * nw * 3);
    const {d, s, a} = ay, f = Math.fround, rw = nw * 3;     // columns: whole rows of the row pass at once
    for (let k = 0; k < d.length; k++) { const o = d[k] * rw, i = s[k] * rw, b = a[k]; for (let j = 0; j < rw; j++) out[o + j] += f(rows[i + j] * b); }
    return Uint8ClampedArray.from(out);
  };
  fitters.set(key, fit);
  return fit;
}

// 3. The probabilities at the frame's size, refined with the frame as the guide: `FrameSegmenter.full`, the numbers
//    of `demo.js`'s `guidedFilter(grayGuide(frame), resizeLinear(low))`, clipped, in a fraction of the time. The
//    filter reads the stretched probabilities and the guide on every s-th pixel only, so only those are computed;
//    its a and b are stretched to the frame and combined with the guide in one pass, row by row, never kept whole.
//    cv2's bilinear resize is two passes of two taps; `lerp` is one output of a pass, rounded as float32 as it sums.
const f = Math.fround, lerp = (src, i0, i1, w0, w1) => f(f(src[i0] * w0) + f(src[i1] * w1));
const gray = (d, j) => f(((d[j] * 9798 + d[j + 1] * 19235 + d[j + 2] * 3735 + 16384) >> 15) / 255);   // `grayGuide`
const taps2 = (n, m) => flat(linearTaps(n, m));       // cv2.INTER_LINEAR: output d reads s[2d] and s[2d + 1]
function rowPass(src, rows, n, taps, cols) {          // each of n rows of src (width n) through the taps at `cols`
  const {s, a} = taps, out = new Float32Array(rows * cols.length);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols.length; j++) { const k = 2 * cols[j]; out[r * cols.length + j] = lerp(src, r * n + s[k], r * n + s[k + 1], a[k], a[k + 1]); }
  return out;
}
const plans = new Map();
function refinePlan([lh, lw], [h, w], refine) {
  const key = [lh, lw, h, w, JSON.stringify(refine)].join();
  if (plans.has(key)) return plans.get(key);
  const grid = refine && refineGrid([h, w], refine), range = (n, step = 1) => Int32Array.from({length: n}, (_, i) => i * step);
  const plan = {grid, px: taps2(lw, w), py: taps2(lh, h), all: range(w)};
  if (grid) Object.assign(plan, {ax: taps2(grid.ws, w), ay: taps2(grid.hs, h), gx: range(grid.ws, grid.s), gy: range(grid.hs, grid.s)});
  plans.set(key, plan);
  return plan;
}
export function frameProbabilities(rgba, low, [lh, lw], [h, w], refine = null) {
  const {grid, px, py, ax, ay, gx, gy, all} = refinePlan([lh, lw], [h, w], refine), out = new Float32Array(h * w);
  const clip = v => v < 0 ? 0 : v > 1 ? 1 : v;
  if (!grid) {                                         // bilinear only
    const rows = rowPass(low, lh, lw, px, all);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = clip(lerp(rows, py.s[2 * y] * w + x, py.s[2 * y + 1] * w + x, py.a[2 * y], py.a[2 * y + 1]));
    return out;
  }
  const {s, hs, ws} = grid, I = new Float64Array(hs * ws), P = new Float64Array(hs * ws), rows = rowPass(low, lh, lw, px, gx);
  for (let y = 0; y < hs; y++) {
    const k = 2 * gy[y];
    for (let x = 0; x < ws; x++) {
      I[y * ws + x] = gray(rgba, 4 * (y * s * w + x * s));
      P[y * ws + x] = lerp(rows, py.s[k] * ws + x, py.s[k + 1] * ws + x, py.a[k], py.a[k + 1]);
    }
  }
  const {a, b} = guidedCoefficients(I, P, grid, refine.eps);
  const ra = rowPass(a, hs, ws, ax, all), rb = rowPass(b, hs, ws, ax, all);
  for (let y = 0; y < h; y++) {
    const i0 = ay.s[2 * y] * w, i1 = ay.s[2 * y + 1] * w, w0 = ay.a[2 * y], w1 = ay.a[2 * y + 1], o = y * w;
    for (let x = 0; x < w; x++)
      out[o + x] = clip(f(f(lerp(ra, i0 + x, i1 + x, w0, w1) * gray(rgba, 4 * (o + x))) + lerp(rb, i0 + x, i1 + x, w0, w1)));
  }
  return out;
}

// 4. One frame (an ImageData): `FrameSegmenter.low_res` (the model's probabilities over the frame's box), the
//    smoothing, then `FrameSegmenter.full` (bilinear to the frame's size, refined as the model's file asks, clipped to [0, 1]).
export async function segmentFrame(model, {data, width: w, height: h}, prev) {
  const t0 = performance.now(), [H, W] = model.frame, box = fitBox([h, w], model.size);
  const fitted = frameFitter([h, w], [box.height, box.width])(data);
  const x = new Float32Array(3 * H * W);
  for (let y = 0; y < box.height; y++) for (let i = 0; i < box.width; i++) for (let c = 0; c < 3; c++)
    x[(c * H + box.top + y) * W + box.left + i] = fitted[(y * box.width + i) * 3 + c] / 255;
  const t1 = performance.now();
  const {probabilities} = await model.session.run({image: new model.ort.Tensor('float32', x, [1, 3, H, W])}, ['probabilities']);
  const t2 = performance.now();
  const low = new Float32Array(box.height * box.width);
  for (let y = 0; y < box.height; y++) {
    const start = (box.top + y) * W + box.left;
    low.set(probabilities.data.subarray(start, start + box.width), y * box.width);
  }
  const smoothed = smooth(low, prev);
  const prob = frameProbabilities(data, smoothed, [box.height, box.width], [h, w], model.refine);
  return {prob, low: smoothed, ms: {fit: t1 - t0, model: t2 - t1, 'smooth + resize': performance.now() - t2}};
}

// 5. The picture: the background (the frame blurred, or a colour), the person on top with P(person) as its opacity
//    (`facenb.video.composite`: prob × frame + (1 − prob) × background). The blur is computed at a quarter of the
//    size, as `facenb.video` does it: the same look, 16 times fewer pixels.
const layers = {};
function draw(canvas, frame, image, prob) {
  const {width: w, height: h} = image, ctx = canvas.getContext('2d');
  if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
  if (layers.w !== w || layers.h !== h) Object.assign(layers, {w, h, person: new OffscreenCanvas(w, h),
    small: new OffscreenCanvas(Math.ceil(w / 4), Math.ceil(h / 4))});
  const d = image.data;               // the frame's own pixels become the person layer: P(person) its opacity
  for (let i = 0; i < prob.length; i++) d[4 * i + 3] = prob[i] * 255 + 0.5;
  layers.person.getContext('2d').putImageData(image, 0, 0);
  if (document.querySelector('[name=camera-view]:checked').value === 'blur') {
    const small = layers.small, sctx = small.getContext('2d');
    sctx.filter = `blur(${$('camera-blur').value / 4}px)`; sctx.drawImage(frame, 0, 0, small.width, small.height); sctx.filter = 'none';
    ctx.drawImage(small, 0, 0, w, h);
  } else { ctx.fillStyle = $('camera-bg').value; ctx.fillRect(0, 0, w, h); }
  ctx.drawImage(layers.person, 0, 0);
}

// 6. The loop: read a frame, segment it, draw it, count it. The frames per second are those of the whole loop
//    (reading, the model, smoothing, drawing), over the last second.
const camera = {running: false, frames: 0, fps: 0, modelMs: 0, frameMs: 0, recorded: [], toRecord: 0, stages: {}};

async function start(model) {
  const status = msg => { $('camera-status').textContent = msg; };
  let stream;
  try { stream = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480}, audio: false}); }
  catch (e) { return status(`No camera (${e.name}): try a sample photo above instead.`); }
  const video = $('camera-video');
  video.srcObject = stream;
  await video.play();
  const w = video.videoWidth, h = video.videoHeight;
  const grab = new OffscreenCanvas(w, h), gctx = grab.getContext('2d', {willReadFrequently: true});
  Object.assign(camera, {running: true, stream, width: w, height: h, size: model.size, backend: model.backend, threads: model.threads});
  $('camera-start').disabled = true; $('camera-stop').disabled = false;
  status(`Camera on, ${w}×${h}: the frames stay in this page.`);
  let prev = null, times = [];
  while (camera.running) {
    const t0 = performance.now();
    gctx.drawImage(video, 0, 0, w, h);
    const image = gctx.getImageData(0, 0, w, h);
    if (camera.toRecord && !camera.recorded.length) prev = null;   // a recording starts from an unsmoothed frame
    const t1 = performance.now();
    const {prob, low, ms} = await segmentFrame(model, image, prev);
    prev = low;
    if (camera.toRecord) {           // what the browser test compares with Python (tests/test_demo_camera.py)
      camera.recorded.push({image: image.data.slice(), mask: Uint8Array.from(prob, p => p >= model.threshold)});
      camera.toRecord -= 1;
    }
    const t2 = performance.now();
    draw($('camera-result'), grab, image, prob);
    const t3 = performance.now();
    const stages = {read: t1 - t0, ...ms, draw: t3 - t2};
    for (const k in stages) camera.stages[k] = (camera.stages[k] ?? stages[k]) * 0.9 + stages[k] * 0.1;   // running means
    times.push(t3); times = times.filter(t => t > t3 - 1000);
    camera.frames += 1;
    Object.assign(camera, {modelMs: ms.model, frameMs: t3 - t0, fps: times.length > 1 ? (times.length - 1) / ((t3 - times[0]) / 1000) : 0});
    if (camera.frames % 5 === 0 || camera.frames < 5)
      $('camera-fps').textContent = `${camera.fps.toFixed(1)} frames per second. A frame: ` +
        Object.entries(camera.stages).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ') +
        ` (${model.backend}, ${model.threads} thread${model.threads > 1 ? 's' : ''})`;
    await new Promise(ok => setTimeout(ok, 0));     // let the page draw and the buttons answer
  }
  stream.getTracks().forEach(t => t.stop());
  $('camera-start').disabled = false; $('camera-stop').disabled = true;
  status('Camera off.');
}

// 7. Multi-threaded WebAssembly needs a cross-origin isolated page; static hosting (GitHub Pages) cannot send the
//    headers that make one, so the page's service worker adds them (sw.js). A page opened before the worker
//    controlled it is not isolated: the camera button reloads it once, under the worker, and starts there.
async function main() {
  await window.facenbDemo.ready;
  const model = window.facenbDemo.model;
  if (!model) return;
  $('camera').hidden = false;
  $('camera-start').addEventListener('click', async () => {
    const sw = 'serviceWorker' in navigator && await navigator.serviceWorker.getRegistration();
    if (!self.crossOriginIsolated && sw && navigator.serviceWorker.controller && !sessionStorage.getItem('facenb-isolate')) {
      sessionStorage.setItem('facenb-isolate', '1');
      location.hash = 'camera'; return location.reload();
    }
    start(model).catch(e => { $('camera-status').textContent = `The camera stopped: ${e.message}`; console.error(e); });
  });
  $('camera-stop').addEventListener('click', () => { camera.running = false; });
  if (location.hash === '#camera') { history.replaceState(null, '', location.pathname + location.search); $('camera-start').click(); }
  for (const sample of model.samples ?? []) {     // a sample photo goes where a chosen photo goes
    const button = Object.assign(document.createElement('button'), {type: 'button', textContent: sample.title});
    button.addEventListener('click', async () => {
      const blob = await (await fetch(sample.file)).blob(), list = new DataTransfer();
      list.items.add(new File([blob], sample.file.split('/').pop(), {type: blob.type}));
      $('file').files = list.files;
      $('file').dispatchEvent(new Event('change'));
    });
    $('samples').append(button);
  }
  $('samples').hidden = !model.samples?.length;
}
if (typeof document !== 'undefined') {        // the page (Node.js imports the functions above to test them)
  window.facenbCamera = camera;                // what the browser test reads (tests/test_demo_camera.py)
  main().catch(e => console.error(e));
}
