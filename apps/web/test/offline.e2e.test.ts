import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserApp, startBrowserApp } from "./browser.ts";

const eventually = { timeout: 20_000 };

/** Rows of one IndexedDB store of the app's database, read in the page. */
function storedRows(page: Page, store: "outbox" | "cache") {
  return page.evaluate(
    (store) =>
      new Promise<string[]>((resolve, reject) => {
        const open = indexedDB.open("naafe-chat");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains(store)) return resolve([]);
          const request = db.transaction(store).objectStore(store).getAll();
          request.onsuccess = () => resolve(request.result.map((row: unknown) => JSON.stringify(row)));
          request.onerror = () => reject(request.error);
        };
      }),
    store,
  );
}

const connection = (page: Page) => page.locator(".connection").textContent();
const composer = (page: Page) => page.getByLabel("Message", { exact: true });

/**
 * Live, and the conversation loaded (the composer waits for it): "Live" alone is the WebSocket,
 * and a page taken offline before its conversation arrived has nothing to write in.
 */
async function ready(page: Page) {
  await expect.poll(() => connection(page), eventually).toBe("Live");
  await expect.poll(() => composer(page).isEnabled(), eventually).toBe(true);
}

async function write(page: Page, text: string) {
  await composer(page).fill(text);
  await composer(page).press("Enter");
}

/** Counts the sendMessage calls the server answered for a context's pages (each outbox send is one request). */
function countSends(context: BrowserContext) {
  const counter = { count: 0 };
  context.on("response", (response) => {
    if (response.url().includes("chat.sendMessage") && response.ok()) counter.count += 1;
  });
  return counter;
}

describe("Naafe Chat without a network", { timeout: 120_000 }, () => {
  let app: BrowserApp;

  beforeAll(async () => {
    app = await startBrowserApp();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  async function openBoth(title: string) {
    const { conversationId, sara, omar } = await app.openConversation(title);
    const saraPage = await app.openPage({ token: sara.token });
    const omarPage = await app.openPage({ token: omar.token });
    for (const page of [saraPage, omarPage]) {
      await page.goto(`${app.server.url}/#/c/${encodeURIComponent(conversationId)}`);
      await ready(page);
    }
    return { conversationId, sara, omar, saraPage, omarPage };
  }

  it("goes offline, sends three messages, reloads, comes back: exactly three arrive, in order", async () => {
    const { conversationId, omar, saraPage, omarPage } = await openBoth("Fix a dripping tap");
    // The service worker has taken the page over, so the shell can load without a network.
    await saraPage.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await write(saraPage, "Before the tunnel");
    await omarPage.locator(".bubble", { hasText: "Before the tunnel" }).waitFor();
    // The offline copy of the query cache has caught up with what is on screen.
    await expect
      .poll(async () => (await storedRows(saraPage, "cache")).join(""), eventually)
      .toContain("Before the tunnel");

    await saraPage.context().setOffline(true);
    await expect.poll(() => connection(saraPage), eventually).toBe("Offline");
    for (const n of [1, 2, 3]) await write(saraPage, `Offline message ${n}`);
    await expect.poll(() => saraPage.locator('.receipt[data-status="queued"]').count(), eventually).toBe(3);
    await expect.poll(async () => (await storedRows(saraPage, "outbox")).length, eventually).toBe(3);

    await saraPage.reload();
    // Opened without a network: the shell from the service worker, the conversation from the
    // cache, the three messages from the outbox, still waiting.
    await saraPage.getByRole("heading", { name: "Omar (provider)" }).waitFor();
    await saraPage.locator(".bubble", { hasText: "Before the tunnel" }).waitFor();
    expect(await saraPage.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    // Playwright's offline mode may not cut a service worker's own fetches, so check that the
    // whole shell (the page and every script and stylesheet it loads) is in the worker's cache.
    const shell = await saraPage.evaluate(async () => {
      const urls = [
        "/index.html",
        ...[...document.querySelectorAll("script[src], link[rel=stylesheet]")].map(
          (el) => el.getAttribute("src") ?? el.getAttribute("href") ?? "",
        ),
      ];
      return Promise.all(urls.map(async (url) => [url, Boolean(await caches.match(url))] as const));
    });
    expect(shell.length).toBeGreaterThan(2);
    expect(shell.filter(([, cached]) => !cached)).toEqual([]);
    await expect.poll(() => saraPage.locator('.receipt[data-status="queued"]').count(), eventually).toBe(3);
    expect(await connection(saraPage)).toBe("Offline");
    expect(await omarPage.locator(".bubble", { hasText: "Offline message" }).count()).toBe(0);

    await saraPage.context().setOffline(false);
    await expect
      .poll(() => omarPage.locator(".bubble", { hasText: "Offline message" }).allTextContents(), eventually)
      .toEqual(["Offline message 1", "Offline message 2", "Offline message 3"]);
    await expect.poll(() => saraPage.locator(".receipt[data-status]").filter({ hasText: "Waiting" }).count()).toBe(0);
    await expect.poll(async () => (await storedRows(saraPage, "outbox")).length, eventually).toBe(0);
    const stored = await omar.api.chat.messages.query({ conversationId, limit: 50 });
    expect(stored.messages.map((message) => message.content).filter((text) => text.startsWith("Offline"))).toEqual([
      "Offline message 1",
      "Offline message 2",
      "Offline message 3",
    ]);
  });

  it("two tabs of one person send what waited exactly once", async () => {
    const { conversationId, omar, saraPage } = await openBoth("Paint the door");
    const context = saraPage.context();
    const second = await context.newPage();
    await second.goto(`${app.server.url}/#/c/${encodeURIComponent(conversationId)}`);
    await ready(second);
    const sends = countSends(context);

    await context.setOffline(true);
    await expect.poll(() => connection(saraPage), eventually).toBe("Offline");
    await write(saraPage, "From the first tab");
    await write(second, "From the second tab");
    await expect.poll(async () => (await storedRows(saraPage, "outbox")).length, eventually).toBe(2);
    // Both tabs come online at once, and both try to send what is waiting.
    await context.setOffline(false);
    const fromTabs = async () =>
      (await omar.api.chat.messages.query({ conversationId, limit: 50 })).messages
        .filter((message) => message.type !== "system")
        .map((message) => message.content)
        .sort();
    await expect.poll(fromTabs, eventually).toEqual(["From the first tab", "From the second tab"]);
    await expect.poll(async () => (await storedRows(saraPage, "outbox")).length, eventually).toBe(0);
    expect(sends.count).toBe(2);
  });

  it("works where IndexedDB is unavailable (private mode), and says unsent messages won't survive a reload", async () => {
    const { conversationId, sara, omarPage } = await openBoth("Hang a shelf");
    const page = await app.openPage({ token: sara.token });
    await page.addInitScript(() => {
      IDBFactory.prototype.open = () => {
        throw new DOMException("IndexedDB is disabled in this mode.", "InvalidStateError");
      };
    });
    await page.goto(`${app.server.url}/#/c/${encodeURIComponent(conversationId)}`);
    await expect.poll(() => connection(page), eventually).toBe("Live");
    await page
      .locator('.outbox-notice[data-notice="volatile"]')
      .getByText(/won't survive a reload/)
      .waitFor();
    await write(page, "Sent without storage");
    await omarPage.locator(".bubble", { hasText: "Sent without storage" }).waitFor();
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByText("Kept in this tab only").waitFor();
  });

  it("still sends when the device's storage is full, and says so", async () => {
    const { conversationId, sara, omarPage } = await openBoth("Fit a lock");
    const page = await app.openPage({ token: sara.token });
    await page.addInitScript(() => {
      IDBObjectStore.prototype.put = () => {
        throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      };
    });
    await page.goto(`${app.server.url}/#/c/${encodeURIComponent(conversationId)}`);
    await expect.poll(() => connection(page), eventually).toBe("Live");
    await write(page, "Sent with a full disk");
    await omarPage.locator(".bubble", { hasText: "Sent with a full disk" }).waitFor();
    await page
      .locator('.outbox-notice[data-notice="quota"]')
      .getByText(/storage is full/)
      .waitFor();
    expect(app.pageErrors).toEqual([]);
  });
});
