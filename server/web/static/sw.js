/* Журнал: the diary offline. Served as /sw.js by server/web/static_files.py, which fills in
   STATIC (the versioned style sheet, script and icons) and VERSION.

   What it keeps: only pages whose response carries the X-Offline-Key header (the server sets
   it on a family member's diary and portfolio, nowhere else), in a cache named after that key,
   which is derived from the web session. A response under another key (someone else logged in)
   deletes every other account's pages; so do POST /login, POST /logout, an online /login
   page (the session is over) and a 403 for a diary or portfolio page (access withdrawn:
   consent refused, child moved). A page answered without the key (a redirect, a 404) is
   dropped; a 5xx answer shows the kept copy.
   At most MAX_PAGES pages, the least recently opened go first.
   Read-only: a page served from the cache shows its «данные на …» note and hides its forms. */
"use strict";
const STATIC = "__STATIC__";
const STATIC_CACHE = "zh-static-" + "__VERSION__";
const PAGES = "zh-pages-";
const META = "zh-meta";
const KEY_URL = "/__offline-key";
const MAX_PAGES = 12;
const NETWORK_WAIT_MS = 8000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(STATIC_CACHE).then((c) => c.addAll(STATIC)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("zh-static-") && name !== STATIC_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function currentKey() {
  const found = await (await caches.open(META)).match(KEY_URL);
  return found ? found.text() : null;
}

async function forgetAll() {
  for (const name of await caches.keys()) {
    if (name.startsWith(PAGES) || name === META) await caches.delete(name);
  }
}

async function keep(request, response) {
  const key = response.headers.get("X-Offline-Key");
  if (response.status === 403 && /^\/(diary|portfolio)\//.test(new URL(request.url).pathname)) {
    return forgetAll();  // a family page refused: access withdrawn (consent, a child moved)
  }
  if (response.status >= 500) return;  // the server is unwell: keep what we have
  if (!key || response.status !== 200) return forget(request.url);
  if ((await currentKey()) !== key) {
    await forgetAll();  // another account (or a new session): nothing of the old one stays
    await (await caches.open(META)).put(KEY_URL, new Response(key));
  }
  const cache = await caches.open(PAGES + key);
  await cache.delete(request.url);  // re-insert: the key order is the order last opened
  await cache.put(request.url, response);
  const urls = await cache.keys();
  for (const old of urls.slice(0, Math.max(0, urls.length - MAX_PAGES))) await cache.delete(old);
}

async function forget(url) {
  const key = await currentKey();
  if (key) await (await caches.open(PAGES + key)).delete(url);
}

async function saved(url) {
  const key = await currentKey();
  if (!key) return null;
  const cache = await caches.open(PAGES + key);
  const found = await cache.match(url, { ignoreVary: true });
  if (!found) return null;
  const html = (await found.text())
    .replace('<p id="offline-note" class="offline" hidden>', '<p id="offline-note" class="offline">')
    .replace("<body>", '<body class="no-link">');
  return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

async function savedList() {
  const key = await currentKey();
  const items = [];
  if (key) {
    const cache = await caches.open(PAGES + key);
    for (const request of (await cache.keys()).reverse()) {
      const html = await (await cache.match(request)).text();
      const title = (html.match(/<title>([^<]*)<\/title>/) || ["", request.url])[1];
      const week = new URL(request.url).searchParams.get("week");
      const label = week ? title + ", неделя с " + week.split("-").reverse().join(".") : title;
      items.push('<li><a href="' + escapeHtml(request.url) + '">' + label + "</a></li>");
    }
  }
  const list = items.length
    ? "<p>Сохранённые на этом телефоне страницы:</p><ul>" + items.join("") + "</ul>"
    : "<p>На этом телефоне нет сохранённых страниц дневника.</p>";
  const style = STATIC.find((u) => u.includes(".css"));
  return new Response(
    '<!doctype html><html lang="ru"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<title>Нет связи — Журнал</title><link rel="stylesheet" href="' + style + '"></head>' +
    '<body class="no-link"><header><strong>Журнал</strong></header><main>' +
    '<h1>Нет связи с сервером</h1>' + list + "</main></body></html>",
    { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function navigate(event) {
  const request = event.request;
  const network = fetch(request).then(async (response) => {
    if (new URL(response.url || request.url).pathname === "/login" && response.ok) await forgetAll();
    else await keep(request, response.clone());
    return response;
  });
  event.waitUntil(network.catch(() => null));
  // a link that hangs (evening 3G) falls back to the saved copy after a while
  const late = new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS, "late"));
  try {
    const first = await Promise.race([network, late]);
    // a server that is down behind a proxy answers 502/503: the kept copy is better
    if (first !== "late" && first.status >= 500) return (await saved(request.url)) || first;
    if (first !== "late") return first;
    return (await saved(request.url)) || (await network);
  } catch (err) {
    return (await saved(request.url)) || savedList();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && (url.pathname === "/logout" || url.pathname === "/login")) {
    // logging out or in as anyone: the phone forgets every saved page first, even offline
    event.respondWith(forgetAll().then(() => fetch(request)).catch(() => savedList()));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode === "navigate") event.respondWith(navigate(event));
});

// the page the parent opened before this worker took control: fetch and keep it once
self.addEventListener("message", (event) => {
  const url = event.data && event.data.save;
  if (!url || new URL(url).origin !== self.location.origin) return;
  event.waitUntil(fetch(url, { credentials: "same-origin" }).then((r) => keep(new Request(url), r)));
});
