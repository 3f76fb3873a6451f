// The demo page offline: the page, the runtime and the model are saved when the page is first opened, and each
// file is served from the network while there is one (so updates arrive), from the saved copy when there is not.
const CACHE = 'facenb-demo', PAGE = ['./', 'index.html', 'demo.js', 'demo.css', 'model.json',
  'ort/ort.wasm.min.mjs', 'ort/ort-wasm-simd-threaded.mjs', 'ort/ort-wasm-simd-threaded.wasm'];

self.addEventListener('install', event => event.waitUntil(caches.open(CACHE).then(cache =>
  cache.addAll(PAGE).then(() => cache.add('model.onnx').catch(() => {})))));    // a build without a model has none
self.addEventListener('activate', event => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', event => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== location.origin) return;
  event.respondWith(fetch(request).then(response => {
    if (response.ok) { const copy = response.clone(); caches.open(CACHE).then(cache => cache.put(request, copy)); }
    return response;
  }).catch(() => caches.match(request, {ignoreSearch: true}).then(saved => saved || Response.error())));
});
