import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserApp, seriousA11yViolations, startBrowserApp } from "./browser.ts";

const eventually = { timeout: 15_000 };

/** Where each piece of a bubble's text is drawn: the left edge of its first occurrence. */
function leftEdges(page: Page, bubbleText: string, pieces: string[]) {
  return page.evaluate(
    ({ bubbleText, pieces }) => {
      const bubble = [...document.querySelectorAll(".bubble")].find((element) => element.textContent === bubbleText);
      if (!bubble) throw new Error(`No bubble reads ${bubbleText}`);
      const walker = document.createTreeWalker(bubble, NodeFilter.SHOW_TEXT);
      const texts: Text[] = [];
      for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push(node as Text);
      return pieces.map((piece) => {
        const text = texts.find((node) => node.data.includes(piece));
        if (!text) throw new Error(`No text node holds ${piece}`);
        const start = text.data.indexOf(piece);
        const range = document.createRange();
        range.setStart(text, start);
        range.setEnd(text, start + piece.length);
        return range.getBoundingClientRect().left;
      });
    },
    { bubbleText, pieces },
  );
}

/** A bubble of a message the server has stored: a sending one is replaced by it, which a measurement could straddle. */
const stored = (page: Page, text: string) =>
  page.locator(".message:not([data-status]) .bubble").filter({ hasText: text });

/** Latin words on the page besides people's names and what is meant to stay as is (commands, "JWT"). */
async function untranslated(page: Page, selector = "body") {
  const keep = [
    /\b(Sara|Omar|Lina) \((seeker|provider)\)/g,
    /pnpm token demo-seeker-sara/g,
    /\bJWT\b/g,
    /\bEnglish\b/g,
  ];
  const kept = keep.reduce(
    (text, pattern) => text.replace(pattern, ""),
    (await page.locator(selector).textContent()) ?? "",
  );
  return kept.match(/[A-Za-z]{2,}/g) ?? [];
}

/** Whether an element is within its scrolling list's visible part. */
function isInView(element: Element) {
  const box = element.getBoundingClientRect();
  const list = element.closest(".messages")?.getBoundingClientRect();
  return !!list && box.top >= list.top && box.bottom <= list.bottom;
}

const documentDirection = (page: Page) =>
  page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));

/**
 * The seed's flow in Arabic, in a browser whose language is Arabic (Egypt), and the layout of
 * right-to-left and mixed text measured on the page.
 */
describe("Naafe Chat in Arabic, right to left", { timeout: 90_000 }, () => {
  let app: BrowserApp;
  let sara: Page;
  let omar: Page;
  const job = "تركيب خزانة ملابس";
  const mixed = "السعر 350 EGP شامل التركيب، اتصل على 0100 123 4567 قبل السبت";

  beforeAll(async () => {
    // The phone number in the mixed message must show its digits here: masking has tests of its own.
    app = await startBrowserApp({ CONTACT_MASKING: "never" });
    sara = await app.openPage({ locale: "ar-EG" });
    omar = await app.openPage({ locale: "ar-EG" });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  it("follows the browser's Arabic: lang=ar, dir=rtl, Arabic sign-in, no serious accessibility issue", async () => {
    await sara.goto(app.server.url);
    expect(await documentDirection(sara)).toEqual({ lang: "ar", dir: "rtl" });
    await sara.getByRole("heading", { name: "جرّبه كمستخدم تجريبي" }).waitFor();
    await sara.getByRole("button", { name: /Sara/ }).waitFor();
    expect(await untranslated(sara)).toEqual([]);
    expect(await seriousA11yViolations(sara)).toEqual([]);
  });

  it("walks job → offer → accept in Arabic, and the conversation opens on both sides", async () => {
    for (const [page, name] of [
      [sara, "Sara"],
      [omar, "Omar"],
    ] as const) {
      await page.goto(app.server.url);
      await page.getByRole("button", { name: new RegExp(`الدخول باسم ${name}`) }).click();
      await expect.poll(() => page.locator(".connection").textContent(), eventually).toBe("متصل");
    }
    expect(await seriousA11yViolations(sara)).toEqual([]);

    await sara.getByRole("link", { name: "السوق: الطلبات والعروض" }).click();
    await sara.getByLabel("انشر طلب عمل (تصبح صاحب الطلب)").fill(job);
    await sara.getByRole("button", { name: "نشر الطلب" }).click();
    await sara.locator(".job-card", { hasText: job }).getByText("لا عروض بعد.").waitFor();

    await omar.getByRole("link", { name: "السوق: الطلبات والعروض" }).click();
    const card = omar.locator(".job-card", { hasText: job });
    await card.getByPlaceholder("السعر (اختياري)").fill("350");
    await card.getByRole("button", { name: "تقديم عرض" }).click();
    // Egyptian Arabic writes the price in Arabic-Indic digits.
    await card.getByText("عرضك: ٣٥٠").waitFor();

    await sara.getByRole("button", { name: "قبول عرض Omar (provider)" }).click({ timeout: 20_000 });
    await sara.waitForURL(/#\/c\//);
    await sara.getByRole("heading", { name: "Omar (provider)" }).waitFor();
    await omar.locator(".conversation-item", { hasText: job }).click();
    await omar.getByRole("heading", { name: "Sara (seeker)" }).waitFor();
    // Naafe's opening notice, stored in English, reads in Arabic with the price in Arabic-Indic digits.
    await omar.locator(".bubble[data-system]", { hasText: "تم قبول العرض: ٣٥٠ جنيه" }).waitFor();
  });

  it("renders a mixed Arabic/English/number message in the right order, on the right side for each", async () => {
    await sara.getByLabel("رسالة", { exact: true }).fill(mixed);
    await sara.getByRole("button", { name: "إرسال" }).click();
    // The mixed message's bubble (not the notice the conversation opened with).
    const bubble = omar.locator(".bubble", { hasText: "شامل التركيب" });
    await bubble.waitFor();
    expect(await bubble.evaluate((element) => getComputedStyle(element).direction)).toBe("rtl");

    // Right to left, in the order written: "السعر" rightmost, then 350, then EGP, the phone
    // number, and "السبت" leftmost; the phone number's own groups read left to right.
    const [first, price, currency, phoneStart, phoneMiddle, phoneEnd, last] = await leftEdges(omar, mixed, [
      "السعر",
      "350",
      "EGP",
      "0100",
      "123",
      "4567",
      "السبت",
    ]);
    expect(first).toBeGreaterThan(price as number);
    expect(price).toBeGreaterThan(currency as number);
    expect(currency).toBeGreaterThan(phoneEnd as number);
    expect(phoneStart).toBeLessThan(phoneMiddle as number);
    expect(phoneMiddle).toBeLessThan(phoneEnd as number);
    expect(last).toBeLessThan(phoneStart as number);

    // My messages sit at the end of the line: the left in Arabic; theirs at the start, the right.
    const list = await omar.locator(".messages").boundingBox();
    const theirs = await bubble.boundingBox();
    await omar.getByLabel("رسالة", { exact: true }).fill("تمام، موعدنا السبت");
    await omar.getByLabel("رسالة", { exact: true }).press("Enter");
    const mine = await stored(omar, "موعدنا").boundingBox();
    if (!list || !theirs || !mine) throw new Error("No layout");
    expect(list.x + list.width - (theirs.x + theirs.width)).toBeLessThan(40);
    expect(mine.x - list.x).toBeLessThan(40);

    // The send and back arrows point the other way in right-to-left.
    const sendArrow = await omar
      .locator(".send-button .direction-icon")
      .evaluate((el) => getComputedStyle(el).transform);
    expect(sendArrow).toBe("matrix(-1, 0, 0, 1, 0, 0)");
    expect(await seriousA11yViolations(omar)).toEqual([]);
  });

  it("keeps each message's own direction in the English interface too, and mirrors back", async () => {
    await omar.getByRole("link", { name: "الإعدادات" }).click();
    await omar.getByRole("heading", { name: "الإعدادات" }).waitFor();
    expect(await untranslated(omar, ".settings")).toEqual([]);
    expect(await seriousA11yViolations(omar)).toEqual([]);
    await omar.getByLabel("اللغة").selectOption("en");
    await omar.getByRole("heading", { name: "Settings" }).waitFor();
    expect(await documentDirection(omar)).toEqual({ lang: "en", dir: "ltr" });
    expect(await omar.evaluate(() => localStorage.getItem("naafe.lang"))).toBe("en");
    expect(await seriousA11yViolations(omar)).toEqual([]);

    await omar.goBack();
    // The mixed message's bubble (not the notice the conversation opened with).
    const bubble = omar.locator(".bubble", { hasText: "شامل التركيب" });
    await bubble.waitFor();
    expect(await bubble.evaluate((element) => getComputedStyle(element).direction)).toBe("rtl");
    const [first, last] = await leftEdges(omar, mixed, ["السعر", "السبت"]);
    expect(first).toBeGreaterThan(last as number);
    // In English my messages are on the right, theirs on the left.
    const list = await omar.locator(".messages").boundingBox();
    const mine = await stored(omar, "موعدنا").boundingBox();
    const theirs = await bubble.boundingBox();
    if (!list || !theirs || !mine) throw new Error("No layout");
    expect(list.x + list.width - (mine.x + mine.width)).toBeLessThan(40);
    expect(theirs.x - list.x).toBeLessThan(40);
    const sendArrow = await omar
      .locator(".send-button .direction-icon")
      .evaluate((el) => getComputedStyle(el).transform);
    expect(sendArrow).toBe("none");
    expect(await seriousA11yViolations(omar)).toEqual([]);

    // The choice is remembered across a reload, whatever the browser says.
    await omar.reload();
    await omar.getByRole("button", { name: "Send" }).waitFor();
    expect(await documentDirection(omar)).toEqual({ lang: "en", dir: "ltr" });
    // The conversation list on its own, in English.
    await omar.setViewportSize({ width: 390, height: 760 });
    await omar.goto(`${app.server.url}/#/`);
    await omar.locator(".conversation-item", { hasText: job }).waitFor();
    expect(await seriousA11yViolations(omar)).toEqual([]);
    await omar.setViewportSize({ width: 1100, height: 720 });
    await omar.goBack();
    await omar.getByRole("heading", { name: "Sara (seeker)" }).waitFor();
  });

  it("refuses a message of only right-to-left override characters, and what follows reads as usual", async () => {
    const overrides = "\u202E\u202E\u202E";
    await sara.getByLabel("رسالة", { exact: true }).fill(overrides);
    await sara.getByLabel("رسالة", { exact: true }).press("Enter");
    await sara.getByLabel("رسالة", { exact: true }).fill("abc def");
    await sara.getByLabel("رسالة", { exact: true }).press("Enter");
    await omar.locator(".bubble", { hasText: "abc def" }).waitFor();
    // The server refuses direction overrides (they turn what follows round): it never reaches Omar.
    const texts = await omar.locator(".bubble").allTextContents();
    expect(texts.filter((text) => text.includes("\u202E"))).toEqual([]);
    const [abc, def] = await leftEdges(omar, "abc def", ["abc", "def"]);
    expect(abc).toBeLessThan(def as number);
    const time = omar.locator(".message", { has: omar.locator(".bubble", { hasText: "abc def" }) }).locator("time");
    expect(await time.evaluate((el) => getComputedStyle(el).direction)).toBe("ltr");
  });

  it("shows an emoji-only message whole, on the sender's side", async () => {
    const emoji = "👍🏽🎉😀👨‍👩‍👧";
    await sara.getByLabel("رسالة", { exact: true }).fill(emoji);
    await sara.getByLabel("رسالة", { exact: true }).press("Enter");
    const received = omar.locator(".bubble").filter({ hasText: emoji });
    await received.waitFor();
    expect(await received.textContent()).toBe(emoji);
    const sent = stored(sara, emoji);
    await sent.waitFor();
    const list = await sara.locator(".messages").boundingBox();
    const box = await sent.boundingBox();
    if (!list || !box) throw new Error("No layout");
    // Sara reads Arabic: her own message is on the left.
    expect(box.x - list.x).toBeLessThan(40);
  });

  it("counts and sends a 2,000-character Arabic message with diacritics, and refuses one more", async () => {
    const word = "مَرْحَبًا ";
    const long = `${word.repeat(200).slice(0, 1999)}ا`;
    expect([...long].length).toBe(2000);
    const composer = sara.getByLabel("رسالة", { exact: true });
    await composer.fill(`${long}ب`);
    await sara.getByText("٢٠٠١/٢٠٠٠").waitFor();
    expect(await sara.getByRole("button", { name: "إرسال" }).isDisabled()).toBe(true);
    await composer.fill(long);
    await sara.getByText("٢٠٠٠/٢٠٠٠").waitFor();
    await composer.press("Enter");
    const received = omar.locator(".bubble").filter({ hasText: long.slice(0, 40) });
    await received.waitFor();
    expect(await received.textContent()).toBe(long);
    expect(await received.evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
  });

  it("finds a message written with another alef, and opens the conversation scrolled to it", async () => {
    const conversationId = decodeURIComponent(/#\/c\/([^/]+)/.exec(sara.url())?.[1] ?? "");
    const { api: omarApi } = await app.signIn("demo-provider-omar");
    const { api: saraApi } = await app.signIn("demo-seeker-sara");
    await omarApi.chat.sendMessage.mutate({ conversationId, content: "أحمد سيصل بعد الظهر ومعه الخشب" });
    // More than a page after it: opening the hit must page back to find it.
    for (let i = 1; i <= 32; i++) {
      const api = i % 2 ? saraApi : omarApi;
      await api.chat.sendMessage.mutate({ conversationId, content: `تمام، رقم ${i}` });
    }
    await sara.goto(`${app.server.url}/#/`);

    const box = sara.getByRole("combobox", { name: "ابحث في كل المحادثات" });
    await box.fill("احمد");
    const hit = sara.getByRole("option").filter({ hasText: "سيصل بعد الظهر" });
    await hit.waitFor();
    expect(await hit.locator("mark").textContent()).toBe("أحمد");
    await box.press("Enter");
    await sara.waitForURL(/#\/c\/[^/]+\/m\//);
    const focused = sara.locator(".message[data-focused] .bubble");
    await expect.poll(() => focused.textContent(), eventually).toBe("أحمد سيصل بعد الظهر ومعه الخشب");
    await expect.poll(() => focused.evaluate(isInView), eventually).toBe(true);

    await box.fill("لاشيءيطابقهذا");
    await sara.getByText("لا توجد رسائل تطابق «لاشيءيطابقهذا».").waitFor();
    expect(await seriousA11yViolations(sara)).toEqual([]);
  });

  it("falls back safely on an unknown language in storage or the URL", async () => {
    const english = await app.openPage({ locale: "en-US" });
    await english.addInitScript(() => localStorage.setItem("naafe.lang", "xx-klingon"));
    await english.goto(`${app.server.url}/?lang=%3Cscript%3E`);
    await english.getByRole("heading", { name: "Try it as a demo user" }).waitFor();
    expect(await documentDirection(english)).toEqual({ lang: "en", dir: "ltr" });
    expect(await seriousA11yViolations(english)).toEqual([]);

    const arabic = await app.openPage({ locale: "ar-EG" });
    await arabic.addInitScript(() => localStorage.setItem("naafe.lang", "{not json"));
    await arabic.goto(`${app.server.url}/?lang=zz`);
    await arabic.getByRole("heading", { name: "جرّبه كمستخدم تجريبي" }).waitFor();
    expect(await documentDirection(arabic)).toEqual({ lang: "ar", dir: "rtl" });
    // A valid language in the URL wins, for that visit.
    await arabic.goto(`${app.server.url}/?lang=en`);
    await arabic.getByRole("heading", { name: "Try it as a demo user" }).waitFor();
    expect(app.pageErrors).toEqual([]);
  });
});
