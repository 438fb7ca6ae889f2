/**
 * Refreshes the README's screenshots (docs/screenshots/*.png), left to right in English and
 * right to left in Arabic: `pnpm screenshots`. Tests never write there; this script is the one
 * place that does. It builds the app, starts a server on a fresh seeded database in a temporary
 * folder, and plays a short conversation in Chromium.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { startBrowserApp } from "../test/browser.ts";

const out = fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url));

const scripts = {
  en: {
    locale: "en-GB",
    job: "Assemble a wardrobe",
    suffix: "",
    lines: [
      ["sara", "Hi Omar! Is Saturday fine?"],
      ["omar", "Saturday works. 350 EGP including assembly; I'll bring the tools."],
      ["sara", "Great, my number is 0100 123 4567 if you need anything."],
    ],
    typing: "I'll leave the door",
  },
  ar: {
    locale: "ar-EG",
    job: "تركيب خزانة ملابس",
    suffix: "-ar",
    lines: [
      ["sara", "مرحبًا عمر! هل يناسبك يوم السبت؟"],
      ["omar", "السبت مناسب. السعر 350 EGP شامل التركيب، وسأحضر الأدوات."],
      ["sara", "ممتاز، رقمي 0100 123 4567 إن احتجت شيئًا."],
    ],
    typing: "سأترك الباب",
  },
} as const;

const composer = (page: Page) => page.locator(".composer textarea");

const app = await startBrowserApp();
try {
  mkdirSync(out, { recursive: true });
  for (const script of Object.values(scripts)) {
    const { conversationId, sara, omar } = await app.openConversation(script.job);
    const pages = {
      sara: await app.openPage({ token: sara.token, locale: script.locale }),
      omar: await app.openPage({ token: omar.token, locale: script.locale }),
    };
    for (const page of Object.values(pages)) {
      await page.goto(`${app.server.url}/#/c/${encodeURIComponent(conversationId)}`);
      await page.locator('.connection[data-state="live"]').waitFor();
    }
    for (const [who, text] of script.lines) {
      await composer(pages[who]).fill(text);
      await composer(pages[who]).press("Enter");
      await pages[who === "sara" ? "omar" : "sara"].locator(".bubble", { hasText: text }).waitFor();
    }
    await pages.sara.locator('.receipt[data-status="read"]').last().waitFor();
    await composer(pages.sara).pressSequentially(script.typing, { delay: 40 });
    await pages.omar.locator(".typing-indicator").filter({ hasText: /\S/ }).waitFor();

    // Omar first: "typing…" lasts only a few seconds after the last keystroke.
    await pages.omar.screenshot({ path: join(out, `provider${script.suffix}.png`) });
    await pages.sara.screenshot({ path: join(out, `seeker${script.suffix}.png`) });
    await pages.omar.setViewportSize({ width: 390, height: 760 });
    await pages.omar.screenshot({ path: join(out, `phone${script.suffix}.png`) });
    for (const page of Object.values(pages)) await page.context().close();
  }
  console.log(`Screenshots written to ${out}`);
} finally {
  await app.close();
}
