import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/**/*.test.ts", "apps/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["./vitest.setup.ts"],
    // Generous: the first PGlite and Prisma WebAssembly start in a worker takes seconds on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
