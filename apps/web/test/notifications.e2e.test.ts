import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, type BrowserApp, seriousA11yViolations, startBrowserApp } from "./browser.ts";

const eventually = { timeout: 15_000 };

/**
 * Notification settings, the "enable notifications" prompt and per-conversation mute, in a real
 * browser against a real server. The steps build on each other, so they run in order.
 */
describe("Notifications in the web app", { timeout: 90_000 }, () => {
  let app: BrowserApp;
  let page: Page;
  let api: Api;
  let conversationId = "";

  beforeAll(async () => {
    app = await startBrowserApp();
    const opened = await app.openConversation("Fix a dripping tap");
    conversationId = opened.conversationId;
    api = opened.sara.api;
    // The browser's permission question is answered "allow" ahead: it cannot be clicked headless.
    page = await app.openPage({ token: opened.sara.token, permissions: ["notifications"] });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  const composer = () => page.getByLabel("Message", { exact: true });
  const prompt = () => page.getByRole("complementary", { name: /Get a notification when they answer/ });
  const listItem = () => page.locator(`a.conversation-item[href="#/c/${conversationId}"]`);

  async function send(text: string) {
    await composer().fill(text);
    await composer().press("Enter");
    await page.locator(".message:not([data-status]) .bubble").filter({ hasText: text }).waitFor();
  }

  it("switches email digests off in settings, as the API then reports", async () => {
    await page.goto(`${app.server.url}/#/settings`);
    const email = page.getByRole("checkbox", { name: "Email digests" });
    const push = page.getByRole("checkbox", { name: "Push notifications" });
    await expect.poll(() => email.isChecked(), eventually).toBe(true);
    expect(await push.isChecked()).toBe(true);
    // This device's state is read from the browser: not subscribed yet.
    await page.getByText("This device doesn't receive push notifications.").waitFor();

    await email.uncheck();
    await expect.poll(async () => (await api.notifications.preferences.query()).email, eventually).toBe(false);
    expect((await api.notifications.preferences.query()).push).toBe(true);
    expect(await email.isChecked()).toBe(false);
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it("offers notifications only after a message is sent, and 'Not now' hides the offer for the session", async () => {
    await page.goto(`${app.server.url}/#/c/${conversationId}`);
    await composer().waitFor();
    await page.getByRole("heading", { name: "Omar (provider)" }).waitFor();
    // Loaded, the conversation shown, the preferences known: still no prompt.
    await expect.poll(async () => (await api.notifications.preferences.query()).push).toBe(true);
    await page.waitForLoadState("networkidle");
    expect(await prompt().count()).toBe(0);

    await send("Is Sunday morning fine for you?");
    await prompt().waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);

    await prompt().getByRole("button", { name: "Not now" }).click();
    await expect.poll(() => prompt().count(), eventually).toBe(0);
    await send("I'll leave the key with the doorman.");
    expect(await prompt().count()).toBe(0);
    // Also after a reload within the same tab's session.
    await page.reload();
    await composer().waitFor();
    await send("Thanks!");
    expect(await prompt().count()).toBe(0);
  });

  it("enabling subscribes this device, or says in words why it could not", async () => {
    // A fresh tab: the prompt's "Not now" belongs to the other one's session.
    const { token } = await app.signIn("demo-seeker-sara");
    const tab = await app.openPage({ token, permissions: ["notifications"] });
    try {
      await tab.goto(`${app.server.url}/#/c/${conversationId}`);
      const input = tab.getByLabel("Message", { exact: true });
      await input.fill("One more thing: bring a spare washer.");
      await input.press("Enter");
      const offer = tab.getByRole("complementary", { name: /Get a notification when they answer/ });
      await offer.getByRole("button", { name: "Enable notifications" }).click();
      // Headless Chromium has no push service to reach: the subscription fails, and the prompt says so.
      // Where it does subscribe, the server now holds this device.
      const outcome = await Promise.race([
        offer
          .getByRole("alert")
          .waitFor()
          .then(() => "failed" as const),
        expect
          .poll(async () => (await api.notifications.preferences.query()).pushDevices, eventually)
          .toBe(1)
          .then(() => "subscribed" as const),
      ]);
      if (outcome === "failed") {
        expect(await offer.getByRole("alert").textContent()).toMatch(/couldn't reach its push service/);
        expect((await api.notifications.preferences.query()).pushDevices).toBe(0);
        expect(await seriousA11yViolations(tab)).toEqual([]);
      } else {
        await expect.poll(() => offer.count(), eventually).toBe(0);
      }
    } finally {
      await tab.context().close();
    }
  });

  it("says so in settings when the browser refuses notifications", async () => {
    // No permission granted to this context: headless Chromium answers the question "denied".
    const { token } = await app.signIn("demo-seeker-sara");
    const tab = await app.openPage({ token });
    try {
      await tab.goto(`${app.server.url}/#/settings`);
      await tab.getByText("This device doesn't receive push notifications.").waitFor();
      await tab.getByRole("button", { name: "Enable notifications" }).click();
      await tab
        .getByText("Notifications are blocked for this site. Allow them in the browser's site settings.")
        .waitFor();
      expect(await tab.getByRole("button", { name: "Enable notifications" }).count()).toBe(0);
      expect(await tab.evaluate(() => Notification.permission)).toBe("denied");
      expect((await api.notifications.preferences.query()).pushDevices).toBe(0);
      expect(await seriousA11yViolations(tab)).toEqual([]);
    } finally {
      await tab.context().close();
    }
  });

  it("mutes the conversation from its header until unmuted, and the list shows it", async () => {
    await page.goto(`${app.server.url}/#/c/${conversationId}`);
    await composer().waitFor();
    expect(await listItem().getByRole("img", { name: "Muted" }).count()).toBe(0);

    await page.getByRole("button", { name: "Mute", exact: true }).click();
    const menu = page.getByRole("group", { name: "Mute notifications" });
    await menu.waitFor();
    // Escape closes the menu and leaves the keyboard on its button.
    await menu.getByRole("button", { name: "For 8 hours" }).focus();
    await page.keyboard.press("Escape");
    await expect.poll(() => menu.count(), eventually).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Mute");
    await page.getByRole("button", { name: "Mute", exact: true }).click();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await menu.getByRole("button", { name: "Until I unmute" }).click();

    await listItem().getByRole("img", { name: "Muted" }).waitFor();
    await page.getByRole("button", { name: "Unmute" }).waitFor();
    const { mutes } = await api.notifications.preferences.query();
    expect(mutes).toEqual([{ conversationId, until: null }]);
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByRole("button", { name: "Unmute" }).click();
    await expect.poll(() => listItem().getByRole("img", { name: "Muted" }).count(), eventually).toBe(0);
    expect((await api.notifications.preferences.query()).mutes).toEqual([]);
  });

  it("mutes for 8 hours, with the end shown in the header", async () => {
    await page.getByRole("button", { name: "Mute", exact: true }).click();
    const before = Date.now();
    await page.getByRole("button", { name: "For 8 hours" }).click();
    await listItem().getByRole("img", { name: "Muted" }).waitFor();
    await page
      .locator(".mute-control")
      .getByText(/^Muted until /)
      .waitFor();
    const [mute] = (await api.notifications.preferences.query()).mutes;
    const hours = ((mute?.until?.getTime() ?? 0) - before) / 3_600_000;
    expect(hours).toBeGreaterThan(7.9);
    expect(hours).toBeLessThanOrEqual(8.1);
  });

  it("raised no errors in the page", () => {
    expect(app.pageErrors).toEqual([]);
  });
});
