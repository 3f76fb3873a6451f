// The demo page's camera mode: the people model on the camera's frames, live, the background blurred or replaced,
// with the frames per second this page reaches. Each frame goes through the steps of `facenb.video.FrameSegmenter`
// and `MaskSmoother('mediapipe')` (chapter 18, video): fitted in the model's input, P(person) at the model's
// resolution, blended with the previous frame's where it is uncertain, then brought to the frame's size. The frames
// never leave the page: nothing is sent anywhere. Without a camera, a visitor tries the sample photos instead.
import {fitBox, resizeArea, resizeLinear, areaTaps, guidedFilter, grayGuide} from './demo.js';
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
//    numbers: `resizeArea` when the frame shrinks by a fraction (a 640×480 frame to the model's 120×90). The
//    probabilities go back to the frame with `demo.js`'s `resizeLinear`, which keeps its taps the same way.
const flat = taps => ({d: Int32Array.from(taps, t => t[0]), s: Int32Array.from(taps, t => t[1]), a: Float32Array.from(taps, t => t[2])});
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
const resizers = new Map();
export function fastResizers([h, w], [nh, nw]) {     // (rgba -> fitted RGB bytes, probabilities -> frame-size probabilities)
  const key = [h, w, nh, nw].join();
  if (resizers.has(key)) return resizers.get(key);
  const generic = nh <= h && nw <= w && !(Number.isInteger(w / nw) && Number.isInteger(h / nh));
  const ax = flat(areaTaps(w, nw)), ay = flat(areaTaps(h, nh));
  const fit = !generic ? rgba => resizeArea(rgba, [h, w], [nh, nw]) : rgba => {
    const rows = pass(rgba, h, 4, 3, w * 4, nw * 3, ax, new Float32Array(h * nw * 3)), out = new Float32Array(nh * nw * 3);
    const {d, s, a} = ay, f = Math.fround, rw = nw * 3;     // columns: whole rows of the row pass at once
    for (let k = 0; k < d.length; k++) { const o = d[k] * rw, i = s[k] * rw, b = a[k]; for (let j = 0; j < rw; j++) out[o + j] += f(rows[i + j] * b); }
    return Uint8ClampedArray.from(out);
  };
  const up = low => {
    const out = resizeLinear(low, [nh, nw], [h, w]);
    for (let j = 0; j < out.length; j++) out[j] = Math.min(1, Math.max(0, out[j]));
    return out;
  };
  resizers.set(key, {fit, up});
  return {fit, up};
}

// 3. One frame (an ImageData): `FrameSegmenter.low_res` (the model's probabilities over the frame's box), the
//    smoothing, then `FrameSegmenter.full` (bilinear to the frame's size, refined as the model's file asks, clipped to [0, 1]).
export async function segmentFrame(model, {data, width: w, height: h}, prev) {
  const t0 = performance.now(), [H, W] = model.frame, box = fitBox([h, w], model.size);
  const {fit, up} = fastResizers([h, w], [box.height, box.width]), fitted = fit(data);
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
  let prob = up(smoothed);
  if (model.refine) {   // edges at the frame's resolution, with the frame as the guide: `FrameSegmenter.full`, as photos get
    prob = guidedFilter(grayGuide(data, h * w), prob, [h, w], model.refine);
    for (let i = 0; i < prob.length; i++) prob[i] = Math.min(1, Math.max(0, prob[i]));
  }
  return {prob, low: smoothed, ms: {fit: t1 - t0, model: t2 - t1, 'smooth + resize': performance.now() - t2}};
}

// 4. The picture: the background (the frame blurred, or a colour), the person on top with P(person) as its opacity
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

// 5. The loop: read a frame, segment it, draw it, count it. The frames per second are those of the whole loop
//    (reading, the model, smoothing, drawing), over the last second.
const camera = window.facenbCamera = {running: false, frames: 0, fps: 0, modelMs: 0, frameMs: 0, recorded: [], toRecord: 0, stages: {}};

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
  Object.assign(camera, {running: true, stream, width: w, height: h, backend: model.backend, threads: model.threads});
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

// 6. Multi-threaded WebAssembly needs a cross-origin isolated page; static hosting (GitHub Pages) cannot send the
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
main().catch(e => console.error(e));
