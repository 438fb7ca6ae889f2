import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { loadConfig } from "../../server/src/env.ts";
import { type RunningServer, startServer } from "../../server/src/server.ts";
import { apiClient, buildWeb, launchChromium, TOKEN_KEY } from "./browser.ts";

const failures = fileURLToPath(new URL("../test-results/", import.meta.url));
/** `expect.poll` gives up after one second by default; a loaded CI machine needs longer. */
const eventually = { timeout: 15_000 };

/**
 * A seeker and a provider, each in their own browser context, against one real server. The
 * steps build on each other, so they run in order; each may wait on a slow, shared CI machine.
 */
describe("Naafe Chat in a real browser", { timeout: 60_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), "naafe-web-e2e-"));
  const webDist = join(work, "dist");
  const dataDir = join(work, "data");
  let server: RunningServer;
  let browser: Browser;
  let seeker: Page;
  let provider: Page;
  const contexts: BrowserContext[] = [];
  const jobTitle = "Assemble a wardrobe";
  let conversationId = "";

  const start = (port: number) =>
    startServer(
      loadConfig({ PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, WEB_DIST: webDist, LOG_LEVEL: "warn" }),
    );

  beforeAll(async () => {
    await buildWeb(webDist);
    [server, browser] = await Promise.all([start(0), launchChromium()]);
    seeker = await openPage();
    provider = await openPage();
    // A fresh database migrates on first start, which a loaded CI machine can stretch.
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function openPage() {
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    contexts.push(context);
    const page = await context.newPage();
    // Generous: CI runs this beside the rest of the suite on two cores.
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
    return page;
  }

  // What each side looked like when a step failed, kept (git-ignored) for whoever debugs it.
  beforeEach(() => {
    onTestFailed(async ({ task }) => {
      mkdirSync(failures, { recursive: true });
      const step = task.name.replace(/\W+/g, "-").slice(0, 40);
      for (const [name, page] of [
        ["seeker", seeker],
        ["provider", provider],
      ] as const) {
        await page?.screenshot({ path: join(failures, `${step}-${name}.png`) }).catch(() => {});
      }
    });
  });

  const connection = (page: Page) => page.locator(".connection");
  const conversationLink = (page: Page) => page.locator(".conversation-item", { hasText: jobTitle });
  const bubble = (page: Page, text: string) => page.locator(".message", { hasText: text });
  const composer = (page: Page) => page.getByLabel("Message", { exact: true });
  /** The other participant's "online" or "last seen …" in the conversation header. */
  const presence = (page: Page) => page.locator(".conversation-header .presence");
  const typingIndicator = (page: Page) => page.locator(".typing-indicator");
  /**
   * Puts the tab in the background or brings it back, as far as the page can tell: headless
   * Chromium has no window to hide, so `document.visibilityState` is overridden.
   */
  const setVisible = (page: Page, visible: boolean) =>
    page.evaluate((visible) => {
      if (visible) Reflect.deleteProperty(document, "visibilityState");
      else Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
      document.dispatchEvent(new Event("visibilitychange"));
    }, visible);
  /** The header's total unread count (the seed leaves each demo user some unread messages). */
  const totalUnread = async (page: Page) => {
    const badge = page.locator(".total-unread");
    return (await badge.count()) === 0 ? 0 : Number.parseInt((await badge.textContent()) ?? "", 10);
  };

  it("signs in as demo users and goes live", async () => {
    for (const [page, name] of [
      [seeker, "Sara"],
      [provider, "Omar"],
    ] as const) {
      await page.goto(server.url);
      await page.getByRole("button", { name: new RegExp(`Sign in as ${name}`) }).click();
      await expect.poll(() => connection(page).textContent(), eventually).toBe("Live");
    }
  });

  it("walks job request → offer → accept, and the conversation opens on both sides at once", async () => {
    await seeker.getByRole("link", { name: /Marketplace/ }).click();
    await seeker.getByLabel(/Post a job request/).fill(jobTitle);
    await seeker.getByRole("button", { name: "Post job" }).click();
    await seeker.locator(".job-card", { hasText: jobTitle }).getByText("No offers yet.").waitFor();

    await provider.getByRole("link", { name: /Marketplace/ }).click();
    const job = provider.locator(".job-card", { hasText: jobTitle });
    await job.getByPlaceholder("Price (optional)").fill("120");
    await job.getByRole("button", { name: "Make offer" }).click();
    await job.getByText("Your offer: 120").waitFor();

    // The seeker's job list picks the offer up by itself.
    await seeker.getByRole("button", { name: "Accept Omar (provider)" }).click({ timeout: 20_000 });
    await seeker.waitForURL(/#\/c\//);
    conversationId = decodeURIComponent(new URL(seeker.url()).hash.replace("#/c/", ""));
    await seeker.getByRole("heading", { name: "Omar (provider)" }).waitFor();
    // It opens with Naafe's notice of the accepted offer, set apart from what people write.
    await seeker.locator(".bubble[data-system]", { hasText: "Offer accepted: 120 EGP" }).waitFor();

    // The provider never reloaded: the new conversation arrives over the live inbox, its notice
    // as the preview, unread for nobody.
    await conversationLink(provider).waitFor();
    await expect.poll(() => conversationLink(provider).textContent(), eventually).toContain("Sara (seeker)");
    await expect
      .poll(() => conversationLink(provider).locator(".conversation-preview").textContent(), eventually)
      .toBe("Offer accepted: 120 EGP");
    expect(await conversationLink(provider).getAttribute("data-unread")).toBeNull();
  });

  it("sends messages both ways, with unread badges and a read receipt", async () => {
    const hello = "Hi Omar! <b>Is Saturday</b> fine?";
    const unreadBefore = await totalUnread(provider);
    await seeker.getByLabel("Message", { exact: true }).fill(hello);
    await seeker.getByLabel("Message", { exact: true }).press("Enter");
    await bubble(seeker, hello).getByText("✓ Sent").waitFor();

    // Omar is still on the marketplace: his list and header count the message as unread.
    await conversationLink(provider).locator(".badge", { hasText: "1" }).waitFor();
    await expect.poll(() => totalUnread(provider), eventually).toBe(unreadBefore + 1);

    await conversationLink(provider).click();
    // Text stays text: the markup is shown as typed, never turned into elements.
    await expect.poll(() => bubble(provider, hello).locator(".bubble").textContent(), eventually).toBe(hello);
    expect(await bubble(provider, hello).locator(".bubble b").count()).toBe(0);
    // Opening the conversation read it, and Sara sees the receipt.
    await bubble(seeker, hello).getByText("✓✓ Read").waitFor();
    await expect.poll(() => totalUnread(provider), eventually).toBe(unreadBefore);

    await provider.getByLabel("Message", { exact: true }).fill("Saturday works. I'll bring the tools.");
    await provider.getByRole("button", { name: "Send" }).click();
    await bubble(seeker, "Saturday works.").waitFor();
    // Sara has it open, so it is read at once.
    await bubble(provider, "Saturday works.").getByText("✓✓ Read").waitFor();
  });

  it("exports the conversation as a signed, printable transcript file", async () => {
    await seeker.getByLabel("Export format").selectOption("html");
    const [download] = await Promise.all([
      seeker.waitForEvent("download"),
      seeker.getByRole("button", { name: "Export", exact: true }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^naafe-conversation-.+\.html$/);
    const saved = await download.path();
    const html = readFileSync(saved, "utf8");
    expect(html).toContain("Saturday works. I&#39;ll bring the tools.");
    // The markup a person typed stays text in the transcript too.
    expect(html).toContain("&lt;b&gt;Is Saturday&lt;/b&gt;");
  });

  it("shows the other side online and typing…, and a message going Delivered, then Read", async () => {
    await expect.poll(() => presence(seeker).textContent(), eventually).toBe("online");
    await expect.poll(() => presence(provider).textContent(), eventually).toBe("online");

    await composer(seeker).pressSequentially("Do you need", { delay: 50 });
    await expect.poll(() => typingIndicator(provider).textContent(), eventually).toBe("Sara (seeker) is typing…");
    // One's own typing is not shown back to oneself.
    expect(await typingIndicator(seeker).textContent()).toBe("");
    // Clearing the text is stopping: the indicator goes without waiting for the server's expiry.
    await composer(seeker).fill("");
    await expect.poll(() => typingIndicator(provider).textContent(), eventually).toBe("");

    // Omar's tab is in the background: his open conversation receives the message (delivered),
    // but he has not seen it (not read) until he comes back to the tab.
    await setVisible(provider, false);
    const question = "Do you need anything from me before Saturday?";
    await composer(seeker).fill(question);
    await composer(seeker).press("Enter");
    await bubble(provider, question).waitFor();
    await bubble(seeker, question).getByText("✓✓ Delivered").waitFor();
    // Still delivered a moment later: nothing marks it read while the tab is hidden.
    await seeker.waitForTimeout(1_000);
    expect(await bubble(seeker, question).locator(".receipt").textContent()).toBe("✓✓ Delivered");

    await setVisible(provider, true);
    await bubble(seeker, question).getByText("✓✓ Read").waitFor();
  });

  it("keeps the history and the session across a reload", async () => {
    await seeker.reload();
    await bubble(seeker, "Is Saturday").waitFor();
    await bubble(seeker, "Saturday works.").waitFor();
    await expect.poll(() => connection(seeker).textContent(), eventually).toBe("Live");
  });

  it("reconnects after a server restart and shows the messages sent meanwhile", async () => {
    const token = await provider.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY);
    const { port } = server;
    await server.close();
    await expect.poll(() => connection(seeker).textContent(), eventually).toMatch(/Reconnecting|Connecting/);
    server = await start(port);

    // Omar writes the moment the server is back, while Sara's page is still waiting to retry.
    const omar = apiClient(server.url, token ?? undefined);
    await omar.chat.sendMessage.mutate({ conversationId, content: "Sent while you were reconnecting" });

    await bubble(seeker, "Sent while you were reconnecting").waitFor({ timeout: 20_000 });
    await bubble(provider, "Sent while you were reconnecting").waitFor({ timeout: 20_000 });
    await expect.poll(() => connection(seeker).textContent(), eventually).toBe("Live");

    // And the conversation goes on live over the new connection.
    await seeker.getByLabel("Message", { exact: true }).fill("Got it. See you Saturday!");
    await seeker.getByLabel("Message", { exact: true }).press("Enter");
    await bubble(provider, "See you Saturday!").waitFor();
  });

  it("shows typing… on the other screen, and last seen once the other side has left", async () => {
    await expect.poll(() => presence(seeker).textContent(), eventually).toBe("online");
    await expect.poll(() => presence(provider).textContent(), eventually).toBe("online");
    await composer(seeker).pressSequentially("I'll leave the door", { delay: 50 });
    await expect.poll(() => typingIndicator(provider).textContent(), eventually).toMatch(/is typing…$/);

    // Sara closes her tab, mid-sentence: Omar sees her last seen, and no "typing…" left behind.
    await seeker.close();
    await expect.poll(() => presence(provider).textContent(), eventually).toBe("last seen just now");
    await expect.poll(() => typingIndicator(provider).textContent(), eventually).toBe("");
  });
});
