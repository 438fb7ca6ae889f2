import { defineConfig } from "prisma/config";

// `prisma generate` never needs the native schema engine, but the CLI looks for one;
// pointing it at any existing file keeps it from trying to download it.
process.env["PRISMA_SCHEMA_ENGINE_BINARY"] ??= process.execPath;

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations", seed: "tsx prisma/seed.ts" },
  datasource: { url: process.env["DATABASE_URL"] ?? "postgresql://localhost/naafe" },
});
