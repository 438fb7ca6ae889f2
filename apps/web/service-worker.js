// The app shell, offline: built into dist/sw.js by vite.config.ts, which fills in the files of
// this build. Navigations try the network first (a new version shows at once) and fall back to
// the cached page; the hashed bundles never change, so they come from the cache. The API
// (/trpc) is never cached here: the app keeps its own data in IndexedDB.
const PRECACHE = self.__PRECACHE__;
const CACHE = `naafe-shell-${self.__VERSION__}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/trpc")) return;
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(() =>
        caches.match("/index.html", { cacheName: CACHE }).then((page) => page ?? Response.error()),
      ),
    );
    return;
  }
  event.respondWith(caches.match(request, { cacheName: CACHE }).then((cached) => cached ?? fetch(request)));
});

// Web push (docs/notifications.md): one notification per conversation, replaced by the next
// (same tag), showing the last message; clicking it opens the conversation.
self.addEventListener("push", (event) => {
  let data;
  try {
    data = event.data?.json();
  } catch {
    return;
  }
  if (!data?.conversationId) return;
  event.waitUntil(
    self.registration.showNotification(data.title || "Naafe", {
      body: data.body,
      tag: `conversation-${data.conversationId}`,
      renotify: true,
      icon: "/icons/icon-192.png",
      data: { url: data.url },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url ?? "/", self.location.origin);
  // Only this app's own pages are opened.
  const url = target.origin === self.location.origin ? target.href : self.location.origin;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
      if (open) return open.navigate(url).then((client) => (client ?? open).focus());
      return self.clients.openWindow(url);
    }),
  );
});
