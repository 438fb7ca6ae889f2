import { signToken } from "@naafe/api";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserApp, seriousA11yViolations, startBrowserApp } from "./browser.ts";

/** `expect.poll` gives up after one second by default; a loaded CI machine needs longer. */
const eventually = { timeout: 15_000 };
/** The server signs and checks tokens with this key, so the test can sign tokens with claims demo sign-in has not. */
const JWT_SECRET = "web-moderation-e2e-secret-0123456789abcdef";
const OMARS_PHONE = "+20 100 123 4567";

/**
 * Trust and safety end to end: a provider's phone number is masked for the seeker until the job
 * is completed, "Share my contact" sends it on purpose, own messages are edited and deleted live,
 * and a report reaches a moderator who closes the conversation for both sides.
 */
describe("trust and safety in a real browser", { timeout: 90_000 }, () => {
  let app: BrowserApp;
  let seeker: Page;
  let provider: Page;
  let moderator: Page;
  let conversationId = "";

  beforeAll(async () => {
    app = await startBrowserApp({ JWT_SECRET });
    const auth = { secret: JWT_SECRET };
    // Omar's token carries contact claims, as a marketplace profile would; Mona's the moderator role.
    const omarToken = signToken(auth, { id: "demo-provider-omar", name: "Omar (provider)", phone: OMARS_PHONE });
    const monaToken = signToken(auth, { id: "mod-mona", name: "Mona (Naafe)", role: "moderator" });
    const opened = await app.openConversation("Fix the balcony door");
    conversationId = opened.conversationId;
    [seeker, provider, moderator] = await Promise.all([
      app.openPage({ token: opened.sara.token }),
      app.openPage({ token: omarToken }),
      app.openPage({ token: monaToken }),
    ]);
    const at = `${app.server.url}/#/c/${encodeURIComponent(conversationId)}`;
    await Promise.all([seeker.goto(at), provider.goto(at)]);
    for (const page of [seeker, provider]) await page.locator(".connection", { hasText: /^Live$/ }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  const bubble = (page: Page, text: string | RegExp) => page.locator(".message", { hasText: text });
  const send = async (page: Page, text: string) => {
    await page.getByLabel("Message", { exact: true }).fill(text);
    await page.getByLabel("Message", { exact: true }).press("Enter");
    await bubble(page, text)
      .getByText("✓ Sent")
      .or(bubble(page, text).getByText(/Delivered|Read/))
      .waitFor();
  };

  it("masks the provider's phone number for the seeker, and tells the provider gently", async () => {
    await send(provider, "Call me on 0100 123 4567 tomorrow");
    await bubble(provider, "0100 123 4567")
      .getByText(/Contact details are hidden from the other person until the job is completed/)
      .waitFor();

    const masked = bubble(seeker, "Call me on");
    await masked.getByText("Contact details are hidden until the job is completed.").waitFor();
    expect(await masked.locator(".bubble").textContent()).not.toMatch(/4567|123/);
    expect(await seriousA11yViolations(provider)).toEqual([]);
  });

  it("shares the provider's contact details on purpose, after a confirmation", async () => {
    await provider.getByRole("button", { name: "Share my contact" }).click();
    await provider.getByText("Send your phone number and email to Sara (seeker)?").waitFor();
    await provider.getByRole("button", { name: "Yes, share" }).click();
    await provider.getByRole("status").getByText("Your contact details were sent.").waitFor();

    await bubble(seeker, "shared their contact details").getByText(`Phone: ${OMARS_PHONE}`).waitFor();
  });

  it("edits and deletes one's own messages from a keyboard-operated menu, live on both sides", async () => {
    await send(provider, "See you tomorrow");
    await bubble(seeker, "See you tomorrow").waitFor();

    // Keyboard only: the menu button opens the menu on its first item.
    const actions = bubble(provider, "See you tomorrow").getByRole("button", { name: "Message actions" });
    await actions.focus();
    await provider.keyboard.press("Enter");
    await expect.poll(() => provider.evaluate(() => document.activeElement?.textContent), eventually).toBe("Edit");
    expect(await seriousA11yViolations(provider)).toEqual([]);
    await provider.keyboard.press("Enter");
    const editor = provider.getByLabel("Edit your message");
    await editor.fill("See you tomorrow at 9");
    await provider.getByRole("button", { name: "Save" }).click();

    await bubble(seeker, "See you tomorrow at 9").locator(".edited-label").waitFor();
    await bubble(provider, "See you tomorrow at 9").locator(".edited-label").waitFor();

    await send(provider, "Oops, wrong chat");
    await bubble(seeker, "Oops, wrong chat").waitFor();
    await bubble(provider, "Oops, wrong chat").getByRole("button", { name: "Message actions" }).click();
    await provider.getByRole("menuitem", { name: "Delete" }).click();
    await provider.getByRole("button", { name: "Yes, delete" }).click();

    await expect.poll(() => seeker.getByText("Oops, wrong chat").count(), eventually).toBe(0);
    await expect.poll(() => provider.getByText("Oops, wrong chat").count(), eventually).toBe(0);
    for (const page of [seeker, provider]) await page.locator(".message").getByText("Message deleted").waitFor();
  });

  it("shows free-text numbers once the seeker marks the job completed", async () => {
    await seeker.getByRole("button", { name: "Mark job completed" }).click();
    await seeker.getByRole("button", { name: "Yes, it's done" }).click();
    await seeker.getByRole("status").getByText("The job is marked completed.").waitFor();

    // The earlier message reads in full now, and a new one arrives unmasked.
    await bubble(seeker, "Call me on 0100 123 4567 tomorrow").waitFor();
    await send(provider, "Or on my landline 02 2345 6789");
    await bubble(seeker, "02 2345 6789").waitFor();
    expect(await seeker.getByText("Contact details are hidden until the job is completed.").count()).toBe(0);
  });

  it("blocks and unblocks after a confirmation", async () => {
    await seeker.getByRole("button", { name: "Block", exact: true }).click();
    await seeker.getByText(/Block Omar \(provider\)\?/).waitFor();
    await seeker.getByRole("button", { name: "Yes, block" }).click();
    await seeker
      .getByRole("status")
      .getByText(/You blocked this person/)
      .waitFor();
    await seeker.getByRole("button", { name: "Unblock", exact: true }).click();
    await seeker
      .getByRole("status")
      .getByText(/Unblocked/)
      .waitFor();
    await seeker.getByRole("button", { name: "Block", exact: true }).waitFor();
  });

  it("reports the conversation with a reason and a note", async () => {
    await seeker.getByRole("button", { name: "Report", exact: true }).click();
    await seeker.getByLabel("Reason").selectOption("off-platform");
    await seeker.getByLabel("Note (optional)").fill("He keeps asking me to pay outside the app");
    expect(await seriousA11yViolations(seeker)).toEqual([]);
    await seeker.getByRole("button", { name: "Send report" }).click();
    await seeker
      .getByRole("status")
      .getByText(/Naafe's moderators will look at this conversation/)
      .waitFor();
  });

  it("brings the report to a moderator, who reads the conversation (audited) and closes it for both sides", async () => {
    await moderator.goto(app.server.url);
    await moderator.getByRole("link", { name: "Moderation" }).click();
    const report = moderator.locator(".report-card", { hasText: "He keeps asking me to pay outside the app" });
    await report.getByText("Asking to deal outside Naafe").waitFor();
    expect(await seriousA11yViolations(moderator)).toEqual([]);

    await report.getByRole("link", { name: "Read the conversation" }).click();
    await moderator.getByText("Your reading is recorded in the audit log.").waitFor();
    // The original text, and the deleted message, as stored.
    await moderator
      .locator(".reviewed-message", { hasText: "Oops, wrong chat" })
      .getByText(/deleted by its sender/)
      .waitFor();
    await moderator.locator(".reviewed-message", { hasText: "Call me on 0100 123 4567" }).waitFor();
    expect(await seriousA11yViolations(moderator)).toEqual([]);

    await moderator.getByLabel("Reason for closing").fill("Off-platform payment requests");
    await moderator.getByRole("button", { name: "Close conversation" }).click();
    await moderator
      .getByRole("status")
      .getByText(/The conversation is closed/)
      .waitFor();

    for (const page of [seeker, provider]) {
      await bubble(page, "This conversation was closed by Naafe.").waitFor();
      await page.getByText("This conversation is closed; it can be read but not written to.").waitFor();
      expect(await page.getByLabel("Message", { exact: true }).count()).toBe(0);
    }

    const reviewedReport = moderator.locator(".report-card", { hasText: "He keeps asking me to pay outside the app" });
    await reviewedReport.getByRole("button", { name: "Resolve report" }).click();
    await expect.poll(() => reviewedReport.getByRole("button", { name: "Resolve report" }).count(), eventually).toBe(0);
  });

  it("suspends a user for a chosen time", async () => {
    await moderator.getByLabel("User", { exact: true }).selectOption("demo-provider-omar");
    await moderator.getByLabel("Duration").selectOption("week");
    await moderator.getByLabel("Reason for suspending").fill("Repeated off-platform requests");
    await moderator.getByRole("button", { name: "Suspend", exact: true }).click();
    await moderator
      .getByRole("status")
      .getByText(/Suspended until/)
      .waitFor();
  });

  it("raised no errors in any page", () => {
    expect(app.pageErrors).toEqual([]);
  });
});
