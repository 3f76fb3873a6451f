// The demo page offline: the page, the runtime and the model are saved when the page is first opened, and each
// file is served from the network while there is one (so updates arrive), from the saved copy when there is not.
// Every response also gets the two headers that make the page cross-origin isolated (SharedArrayBuffer, so
// onnxruntime-web runs on several threads: the camera mode, camera.js), which static hosting cannot send itself.
const CACHE = 'facenb-demo', PAGE = ['./', 'index.html', 'demo.js', 'camera.js', 'demo.css', 'model.json',
  'ort/ort.wasm.min.mjs', 'ort/ort-wasm-simd-threaded.mjs', 'ort/ort-wasm-simd-threaded.wasm'];

self.addEventListener('install', event => event.waitUntil(caches.open(CACHE).then(cache =>
  cache.addAll(PAGE).then(() => cache.add('model.onnx').catch(() => {})))));    // a build without a model has none
self.addEventListener('activate', event => event.waitUntil(self.clients.claim()));

function isolated(response) {    // the same response, with COOP and COEP (all the page loads is from its own origin)
  if (!response || response.status === 0) return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  return new Response(response.body, {status: response.status, statusText: response.statusText, headers});
}
self.addEventListener('fetch', event => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== location.origin) return;
  event.respondWith(fetch(request).then(response => {
    if (response.ok) { const copy = response.clone(); caches.open(CACHE).then(cache => cache.put(request, copy)); }
    return isolated(response);
  }).catch(() => caches.match(request, {ignoreSearch: true}).then(saved => saved ? isolated(saved) : Response.error())));
});
