/** The app shell for offline use and installing (dist/sw.js, built by vite.config.ts); production builds only. */
export function registerServiceWorker() {
  if (!import.meta.env.PROD || !("serviceWorker" in navigator)) return;
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch((error: unknown) => {
      // The app works without it; it only won't open offline.
      console.warn("Service worker not registered:", error);
    });
  });
}
