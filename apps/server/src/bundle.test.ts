import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

interface Manifest {
  dependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}
const manifest = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as Manifest;
const packages = ["../../../packages/api/package.json", "../../../packages/db/package.json"];

describe("the production bundle", () => {
  // `pnpm start` bundles the workspace packages and leaves npm packages to be resolved from
  // apps/server at run time: each one the bundled packages use must be a dependency here.
  it("declares every npm package the bundled workspace packages depend on", () => {
    const server = manifest("../package.json").dependencies ?? {};
    for (const pkg of packages) {
      const needed = Object.keys(manifest(pkg).dependencies ?? {}).filter((name) => !name.startsWith("@naafe/"));
      expect(
        needed.filter((name) => !(name in server)),
        pkg,
      ).toEqual([]);
    }
  });

  it("bundles every workspace package they use (an alias to its source in the build script)", () => {
    const build = manifest("../package.json").scripts?.["build"] ?? "";
    for (const pkg of packages) {
      const workspace = Object.keys(manifest(pkg).dependencies ?? {}).filter((name) => name.startsWith("@naafe/"));
      expect(
        workspace.filter((name) => !build.includes(`--alias:${name}=`)),
        pkg,
      ).toEqual([]);
    }
  });
});
