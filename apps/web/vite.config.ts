import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// `vite` (dev) proxies the API to a server started separately: PORT=3100 pnpm --filter @naafe/server dev
const api = process.env["NAAFE_API"] ?? "http://localhost:3100";

/** Emits sw.js with this build's files to precache (the app shell) and a version that changes with them. */
function serviceWorker(): Plugin {
  const source = readFileSync(new URL("./service-worker.js", import.meta.url), "utf8");
  return {
    name: "naafe-service-worker",
    apply: "build",
    generateBundle(_options, bundle) {
      const built = Object.keys(bundle).filter((file) => !file.endsWith(".map"));
      const files = [
        "/index.html",
        "/manifest.webmanifest",
        "/favicon.svg",
        "/icons/icon-192.png",
        "/icons/icon-512.png",
      ];
      const precache = [...new Set([...files, ...built.map((file) => `/${file}`)])].filter((file) => file !== "/sw.js");
      const version = createHash("sha256").update(precache.join("\n")).digest("hex").slice(0, 12);
      this.emitFile({
        type: "asset",
        fileName: "sw.js",
        source: source
          .replace("self.__PRECACHE__", JSON.stringify(precache))
          .replace("self.__VERSION__", JSON.stringify(version)),
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), serviceWorker()],
  server: { proxy: { "/trpc": { target: api, ws: true } } },
  build: { outDir: "dist", emptyOutDir: true },
});
