import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `vite` (dev) proxies the API to a server started separately: PORT=3100 pnpm --filter @naafe/server dev
const api = process.env["NAAFE_API"] ?? "http://localhost:3100";

export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/trpc": { target: api, ws: true } } },
  build: { outDir: "dist", emptyOutDir: true },
});
