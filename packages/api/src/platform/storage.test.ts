import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlobTooLarge, createDiskStorage } from "./storage.ts";

describe("disk storage", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "attachments-storage-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const chunks = (count: number, size: number) =>
    Readable.from(Array.from({ length: count }, () => Buffer.alloc(size, "x")));

  it("streams a blob in and out, and deletes it", async () => {
    const storage = createDiskStorage(dir);
    expect(await storage.put("uploads/abc", chunks(4, 1000))).toBe(4000);
    expect(await storage.size("uploads/abc")).toBe(4000);
    const body = await storage.get("uploads/abc");
    let read = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) read += chunk.length;
    expect(read).toBe(4000);
    await storage.delete("uploads/abc");
    expect([await storage.get("uploads/abc"), await storage.size("uploads/abc")]).toEqual([null, null]);
  });

  it("stops past maxBytes and keeps nothing, not even the partial file", async () => {
    const storage = createDiskStorage(dir);
    await expect(storage.put("uploads/big", chunks(10, 1000), { maxBytes: 2500 })).rejects.toBeInstanceOf(BlobTooLarge);
    expect(await readdir(join(dir, "uploads"))).toEqual([]);
  });

  it("refuses keys that are not ours (no paths out of its folder)", async () => {
    const storage = createDiskStorage(dir);
    for (const key of ["../escape", "uploads/../../x", "/etc/passwd", "uploads/a/b", ""]) {
      await expect(storage.put(key, chunks(1, 1))).rejects.toThrow(/Not a storage key/);
    }
    expect(await readdir(dir)).toEqual([]);
  });
});
