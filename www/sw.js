// qcal's service worker: the page works offline after the first visit.
//
// `cargo xtask dist` copies this file into the static folder and fills in the four
// placeholders: the version (a content hash of every precached file, so each deploy gets its own
// cache), the base path the site is deployed under (caches of other sites on the same origin are
// left alone), and the precache list (the app shell with its content-hashed wasm, JS and CSS,
// the default model's files and the shipped calibrators), as URLs relative to this file.
//
// One deploy is one consistent snapshot: every response comes from this version's cache first,
// so an old page never gets a new wasm or a new page an old one. A new deploy installs beside the
// old one (all its files fetched, or it does not install at all) and takes over when no page of
// the old one is open any more; its activation deletes the older versions' caches.
const VERSION = '__QCAL_VERSION__';
const BASE_PATH = '__QCAL_BASE_PATH__';
const PRECACHE = __QCAL_PRECACHE__;

const PREFIX = `qcal-app:${BASE_PATH}:`;
const CACHE = PREFIX + VERSION;
const scoped = (path) => new URL(path, self.location).href;

// Where the first visit's page left the files it downloaded before this worker existed (the
// default model; web/src/net.rs); taken from there, they are not downloaded twice.
const STAGING = '__QCAL_STAGING__';

self.addEventListener('install', (event) => {
  // `no-cache`: revalidate with the server, so an unhashed file (index.html, the model) is never
  // taken from a stale HTTP cache of an older deploy. All files or none: a failed install
  // leaves no partial cache.
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const staged = await caches.open(STAGING);
    const taken = [];
    try {
      await Promise.all(PRECACHE.map(async (path) => {
        const request = new Request(scoped(path), { cache: 'no-cache' });
        const copy = await staged.match(request);
        if (copy) taken.push(request);
        await (copy ? cache.put(request, copy) : cache.add(request));
      }));
    } catch (err) {
      await caches.delete(CACHE);
      throw err;
    }
    // Only this site's copies go (another base path on this origin may be staging its own).
    await Promise.all(taken.map((request) => staged.delete(request)));
    if ((await staged.keys()).length === 0) await caches.delete(STAGING);
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || !request.url.startsWith(self.registration.scope)) return;
  event.respondWith(respond(event, request));
});

// This version's copy first (the page itself for any address of its start page, whatever the
// query); else the network, keeping a copy for offline use; offline, any cached copy.
async function respond(event, request) {
  const cache = await caches.open(CACHE);
  const url = new URL(request.url);
  const start = request.mode === 'navigate'
    && (url.pathname === new URL(self.registration.scope).pathname || url.pathname.endsWith('/index.html'));
  const hit = await cache.match(start ? scoped('./') : request, { ignoreSearch: start });
  if (hit) return hit;
  try {
    const response = await fetch(request);
    // Stored while the page reads its copy (a large file streams to both).
    if (response.ok && response.type === 'basic') event.waitUntil(cache.put(request, response.clone()));
    return response;
  } catch (err) {
    const stale = await cache.match(request, { ignoreSearch: true });
    if (stale) return stale;
    throw err;
  }
}
