import { deflateSync } from "node:zlib";
import type { Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserApp, seriousA11yViolations, startBrowserApp } from "./browser.ts";

const eventually = { timeout: 20_000 };

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real PNG: `width`×`height` pixels, a red-to-blue gradient (RGB, 8 bits). */
function png(width: number, height: number) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    rows.push(0);
    for (let x = 0; x < width; x++) rows.push(Math.round((255 * x) / width), 40, Math.round((255 * y) / height));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.from(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const connection = (page: Page) => page.locator(".connection").textContent();
const composer = (page: Page) => page.getByLabel("Message", { exact: true });
const fileInput = (page: Page) => page.locator("input.attach-input");
const draft = (page: Page, name: string) => page.locator(".draft", { hasText: name });
const naturalWidth = (page: Page, selector: string) =>
  page.locator(selector).evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0));

describe("Photos and files in a conversation, in a real browser", { timeout: 180_000 }, () => {
  let app: BrowserApp;

  beforeAll(async () => {
    app = await startBrowserApp();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  /** `serviceWorkers: "block"` lets a test see (and stand in for) the provider's file requests. */
  async function openBoth(title: string, omarOptions: { serviceWorkers?: "block" } = {}) {
    const { conversationId, sara, omar } = await app.openConversation(title);
    const saraPage = await app.openPage({ token: sara.token });
    const omarPage = await app.openPage({ token: omar.token, ...omarOptions });
    for (const page of [saraPage, omarPage]) {
      await page.goto(`${app.server.url}/#/c/${encodeURIComponent(conversationId)}`);
      await expect.poll(() => connection(page), eventually).toBe("Live");
    }
    return { conversationId, sara, omar, saraPage, omarPage };
  }

  it("the seeker sends a photo; the provider sees its thumbnail live and opens it; outsiders get nothing", async () => {
    const { conversationId, omar, saraPage, omarPage } = await openBoth("Fix a leaking tap");

    await fileInput(saraPage).setInputFiles({ name: "leak.png", mimeType: "image/png", buffer: png(64, 48) });
    await draft(saraPage, "leak.png").getByText("Ready to send").waitFor();
    // The preview is the chosen file itself (an object URL the page's CSP allows), shown before sending.
    expect(await draft(saraPage, "leak.png").locator("img").getAttribute("src")).toMatch(/^blob:/);
    await expect.poll(() => naturalWidth(saraPage, ".draft img"), eventually).toBe(64);
    expect(await seriousA11yViolations(saraPage)).toEqual([]);

    await composer(saraPage).fill("The leak is under the sink");
    await saraPage.getByRole("button", { name: "Send" }).click();
    await saraPage.locator(".draft").first().waitFor({ state: "detached" });

    // Omar never reloaded: the message arrives over the live feed with its thumbnail.
    const message = omarPage.locator(".message", { hasText: "The leak is under the sink" });
    const thumbnail = message.getByRole("button", { name: "Open photo leak.png" });
    await thumbnail.waitFor();
    await expect.poll(() => naturalWidth(omarPage, ".message .attachment-thumbnail img"), eventually).toBe(64);

    await thumbnail.click();
    const lightbox = omarPage.getByRole("dialog", { name: "leak.png" });
    await lightbox.waitFor();
    await expect.poll(() => naturalWidth(omarPage, ".lightbox-image"), eventually).toBe(64);
    expect(await seriousA11yViolations(omarPage)).toEqual([]);
    await omarPage.keyboard.press("Escape");
    await lightbox.waitFor({ state: "hidden" });
    // Focus goes back to the thumbnail that opened it.
    expect(await omarPage.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(
      "Open photo leak.png",
    );
    expect(await seriousA11yViolations(omarPage)).toEqual([]);

    // The stored message carries the photo; its signed link works, and nothing less does.
    const stored = await omar.api.chat.messages.query({ conversationId, limit: 10 });
    const sent = stored.messages.find((m) => m.content === "The leak is under the sink");
    expect(sent?.type).toBe("image");
    const attachment = sent?.attachments[0];
    if (!attachment) throw new Error("the message has no attachment");
    expect(attachment).toMatchObject({ name: "leak.png", mimeType: "image/png", width: 64, height: 48 });
    const signed = new URL(attachment.url, app.server.url);
    const ok = await fetch(signed);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("image/png");

    const unsigned = new URL(signed.pathname, app.server.url);
    expect((await fetch(unsigned)).status).toBe(403);
    const tampered = new URL(signed);
    const signature = tampered.searchParams.get("signature") ?? "";
    tampered.searchParams.set("signature", `${signature.at(-1) === "A" ? "B" : "A"}${signature.slice(1)}`);
    expect([403, 404]).toContain((await fetch(tampered)).status);
    const otherId = new URL(signed);
    otherId.pathname = "/uploads/00000000-0000-4000-8000-000000000000";
    expect([403, 404]).toContain((await fetch(otherId)).status);
    // Someone outside the conversation is never handed a link.
    const lina = await app.signIn("demo-provider-lina");
    await expect(lina.api.chat.messages.query({ conversationId, limit: 10 })).rejects.toThrow();
  });

  it("sends a file as a card with a download link, refuses what is not what it claims, and cancels an upload", async () => {
    const { saraPage, omarPage } = await openBoth("Quote for painting");

    // A page pretending to be a photo: the server reads the bytes and refuses it, in words.
    await fileInput(saraPage).setInputFiles({
      name: "photo.png",
      mimeType: "image/png",
      buffer: Buffer.from("<html><script>alert(1)</script></html>"),
    });
    const refused = draft(saraPage, "photo.png");
    await refused.getByRole("alert").waitFor();
    expect(await refused.getByRole("alert").textContent()).toMatch(/^Upload failed: /);
    await expect.poll(() => saraPage.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    // Retrying sends it again, and it is refused again.
    await refused.getByRole("button", { name: "Retry uploading photo.png" }).click();
    await refused.getByRole("alert").waitFor();
    await refused.getByRole("button", { name: "Remove photo.png" }).click();
    await refused.waitFor({ state: "detached" });

    // A photo over the size limit is refused before any byte is sent, naming the file.
    await fileInput(saraPage).setInputFiles({
      name: "huge.jpg",
      mimeType: "image/jpeg",
      buffer: Buffer.alloc(11 * 1024 * 1024, 1),
    });
    const tooBig = draft(saraPage, "huge.jpg");
    await tooBig.getByRole("alert").waitFor();
    expect(await tooBig.getByRole("alert").textContent()).toMatch(/^Upload failed: “huge\.jpg” cannot be sent/);
    await tooBig.getByRole("button", { name: "Remove huge.jpg" }).click();
    await tooBig.waitFor({ state: "detached" });

    // An upload held on the way can be cancelled: it leaves the message.
    let held: Route | undefined;
    await saraPage.route("**/uploads/**", (route) => {
      if (route.request().method() === "PUT") held = route;
      else void route.continue();
    });
    await fileInput(saraPage).setInputFiles({ name: "slow.txt", mimeType: "text/plain", buffer: Buffer.from("slow") });
    await draft(saraPage, "slow.txt").getByRole("progressbar", { name: "Uploading slow.txt" }).waitFor();
    await expect.poll(() => held !== undefined, eventually).toBe(true);
    await draft(saraPage, "slow.txt").getByRole("button", { name: "Cancel uploading slow.txt" }).click();
    await draft(saraPage, "slow.txt").waitFor({ state: "detached" });
    await saraPage.unroute("**/uploads/**");
    await held?.abort().catch(() => {});

    // A file, no text: the other side gets a card naming it, with a link to download it.
    await fileInput(saraPage).setInputFiles({
      name: "quote.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("Painting, two rooms: 350 EGP\n"),
    });
    await draft(saraPage, "quote.txt").getByText("Ready to send").waitFor();
    await composer(saraPage).press("Enter");
    const card = omarPage.locator(".file-card", { hasText: "quote.txt" });
    await card.waitFor();
    expect(await card.textContent()).toContain("Text");
    expect(await card.getAttribute("download")).toBe("quote.txt");
    const href = (await card.getAttribute("href")) ?? "";
    const download = await fetch(new URL(href, app.server.url));
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toMatch(/^attachment/);
    expect(await download.text()).toBe("Painting, two rooms: 350 EGP\n");

    // Searching finds the file by its name: the hit shows the name with the match marked.
    await omarPage.getByRole("combobox", { name: "Search all conversations" }).fill("quote");
    const hit = omarPage.locator(".search-result-file", { hasText: "quote.txt" });
    await hit.waitFor();
    expect(await hit.locator("mark").textContent()).toBe("quote");
    expect(await seriousA11yViolations(omarPage)).toEqual([]);
    expect(app.pageErrors).toEqual([]);
  });

  it("takes files dropped on the conversation or pasted into the field, and reloads a photo whose link expired", async () => {
    const { saraPage, omarPage } = await openBoth("Tile the bathroom", { serviceWorkers: "block" });

    // The first thumbnail Omar's page asks for is refused, as an expired link would be.
    let refusedOnce = false;
    await omarPage.route(
      (url) => url.pathname.endsWith("/thumbnail"),
      (route) => {
        if (refusedOnce) return route.continue();
        refusedOnce = true;
        return route.fulfill({ status: 403, body: "expired" });
      },
    );
    let messageFetches = 0;
    omarPage.on("request", (request) => {
      if (request.url().includes("chat.messages")) messageFetches += 1;
    });

    const bytes = [...png(40, 30)];
    // Dropped on the conversation (files in a drag, as a desktop file manager gives them).
    await saraPage.locator(".conversation").evaluate((section, bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], "tiles.png", { type: "image/png" }));
      section.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
      section.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    }, bytes);
    await draft(saraPage, "tiles.png").getByText("Ready to send").waitFor();

    // Pasted into the message field (a screenshot from the clipboard).
    await composer(saraPage).evaluate((field, bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], "grout.png", { type: "image/png" }));
      field.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, bytes);
    await draft(saraPage, "grout.png").getByText("Ready to send").waitFor();
    expect(await composer(saraPage).inputValue()).toBe("");

    const fetchesBefore = messageFetches;
    await saraPage.getByRole("button", { name: "Send" }).click();
    const thumbnails = omarPage.locator(".message .attachment-thumbnail img");
    await expect.poll(() => thumbnails.count(), eventually).toBe(2);
    // The refused one asked for the messages again and loaded: both photos show.
    await expect
      .poll(
        () => thumbnails.evaluateAll((imgs) => imgs.map((img) => (img as HTMLImageElement).naturalWidth)),
        eventually,
      )
      .toEqual([40, 40]);
    expect(refusedOnce).toBe(true);
    expect(messageFetches).toBeGreaterThan(fetchesBefore);
  });

  it("lets nobody attach while offline, and says why", async () => {
    const { saraPage } = await openBoth("Fix the fence");
    await saraPage.context().setOffline(true);
    const attach = saraPage.getByRole("button", { name: "Attach photos or files" });
    await expect.poll(() => attach.isDisabled(), eventually).toBe(true);
    await saraPage.getByText("Attaching files needs a connection").waitFor();
    await saraPage.context().setOffline(false);
    await expect.poll(() => attach.isDisabled(), eventually).toBe(false);
  });
});
