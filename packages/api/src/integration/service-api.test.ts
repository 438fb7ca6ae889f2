import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { prepareTestDatabases } from "@naafe/db/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { createMemoryRateLimiter } from "../platform/limits.ts";
import { createTestApp } from "../testing.ts";
import { createServiceApi } from "./service-api.ts";

beforeAll(prepareTestDatabases);

const KEY = "a-service-key-that-is-long-enough-000001";

async function serve(burst: number) {
  const app = await createTestApp("pglite");
  const handler = createServiceApi({
    services: app.services,
    keys: [KEY],
    limiter: createMemoryRateLimiter({ burst, perSecond: 0.01 }, "calling the service API"),
  });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    call: (method: string, path: string) =>
      fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${KEY}` } }),
    async [Symbol.asyncDispose]() {
      await new Promise((resolve) => server.close(resolve));
      await app[Symbol.asyncDispose]();
    },
  };
}

describe("the service API", () => {
  it("limits the calls of one key, and says when to retry", async () => {
    await using api = await serve(2);
    expect((await api.call("GET", "/service/users/sara/unread-count")).status).toBe(200);
    expect((await api.call("GET", "/service/users/sara/unread-count")).status).toBe(200);
    const refused = await api.call("GET", "/service/users/sara/unread-count");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: { code: "TOO_MANY_REQUESTS" } });
  });

  it("answers 404 for an unknown path and 405 with Allow for a wrong method", async () => {
    await using api = await serve(100);
    expect((await api.call("GET", "/service/nothing-here")).status).toBe(404);
    const wrongMethod = await api.call("DELETE", "/service/conversations");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
  });
});
