import { describe, expect, it } from "vitest";
import { CONTACT_MASK, maskContacts, masksContacts } from "./masking.ts";

/** Latin digits only, whatever script or separators the text used. */
const digitsOf = (text: string) =>
  text
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x660))
    .replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x6f0))
    .replace(/\D/g, "");

/** [message, the part that must not survive]: for phone numbers, their last seven digits. */
const phones: [string, string][] = [
  ["كلمني على 01001234567", "1234567"],
  ["رقمي 01112345678 بعد الساعة ٥", "2345678"],
  ["call me 01223456789", "3456789"],
  ["my number is 01512345678 thanks", "2345678"],
  ["010 0123 4567", "0123 4567"],
  ["010-0123-4567", "0123-4567"],
  ["010.0123.4567", "0123.4567"],
  ["0100 123 4567", "123 4567"],
  ["(010) 0123 4567", "0123 4567"],
  ["+20 100 123 4567", "123 4567"],
  ["+201001234567", "1234567"],
  ["+20-100-123-4567", "123-4567"],
  ["00201001234567", "1234567"],
  ["0020 100 123 4567", "123 4567"],
  ["201001234567 واتساب", "1234567"],
  ["1001234567", "1234567"],
  ["10 0123 4567 من غير صفر", "0123 4567"],
  ["٠١٠٠١٢٣٤٥٦٧", "١٢٣٤٥٦٧"],
  ["رقمي ٠١٠٠١٢٣٤٥٦٧ يا باشا", "١٢٣٤٥٦٧"],
  ["٠١٠ ١٢٣٤ ٥٦٧٨", "١٢٣٤ ٥٦٧٨"],
  ["٠١١-٢٣٤٥-٦٧٨٩", "٢٣٤٥-٦٧٨٩"],
  ["+٢٠ ١٠٠ ١٢٣ ٤٥٦٧", "١٢٣ ٤٥٦٧"],
  ["٠١٠0123٤٥٦٧", "0123٤٥٦٧"],
  ["01٢٣4٥6٧8٩0", "4٥6٧8٩0"],
  ["010١٢٣٤5678 ده رقمي", "١٢٣٤5678"],
  ["۰۱۰۰۱۲۳۴۵۶۷", "۱۲۳۴۵۶۷"],
  ["0\u200b1\u200b0\u200b0\u200b1\u200b2\u200b3\u200b4\u200b5\u200b6\u200b7", "1234567"],
  ["010\u200c0123\u200d4567", "01234567"],
  ["0100\ufeff123\u20604567", "1234567"],
  ["0 1 0 0 1 2 3 4 5 6 7", "1 2 3 4 5 6 7"],
  ["0-1-0-0-1-2-3-4-5-6-7", "1-2-3-4-5-6-7"],
  ["0.1.0.0.1.2.3.4.5.6.7", "1.2.3.4.5.6.7"],
  ["0_1_0_0_1_2_3_4_5_6_7", "1_2_3_4_5_6_7"],
  ["010 * 0123 * 4567", "0123 * 4567"],
  ["010 - 0123 - 4567", "0123 - 4567"],
  ["٠ ١ ٠ ٠ ١ ٢ ٣ ٤ ٥ ٦ ٧", "١ ٢ ٣ ٤ ٥ ٦ ٧"],
  ["0\u200b1\u200b٠\u200b0\u200b1\u200b٢\u200b3\u200b٤\u200b5\u200b٦\u200b7", "1٢3٤5٦7"],
  ["الرقم: 0122 345 6789", "345 6789"],
  ["ابعتلي على الواتس 01098765432", "8765432"],
  ["اتصل بيا 01287654321 ضروري", "7654321"],
  ["phone: 0155 555 1234", "555 1234"],
  ["cairo office 02 2345 6789", "2345 6789"],
  ["المكتب 0223456789", "3456789"],
  ["alex 03 512 3456", "5123456"],
  ["الإسكندرية 035123456", "5123456"],
  ["+971 50 123 4567", "1234567"],
  ["+966 50 123 4567", "1234567"],
  ["00966501234567", "1234567"],
  ["+1 (415) 555-2671", "5552671"],
  ["+44 20 7946 0958", "7946 0958"],
  ["+49 151 23456789", "3456789"],
  ["price is 350 and my number 01001234567", "1234567"],
  ["السعر 500 جنيه ورقمي 01112223334", "2223334"],
  ["the flat is on floor 3, call 0100 765 4321", "765 4321"],
  ["01001234567/01112345678", "2345678"],
  ["01001234567 or 01223456789", "3456789"],
  ["tel:+201001234567", "1234567"],
  ["رقم الموبايل ٠١٢٢٣٤٥٦٧٨٩ والأرضي ٠٢٢٣٤٥٦٧٨٩", "٣٤٥٦٧٨٩"],
  ["0 10 01 23 45 67", "1 23 45 67"],
  ["010(0123)4567", "0123)4567"],
];

/** [message, the address or handle that must not survive (compared in lower case)]. */
const addresses: [string, string][] = [
  ["email me at omar.tarek@gmail.com", "omar.tarek@gmail.com"],
  ["ايميلي sara_ahmed92@yahoo.com", "sara_ahmed92@yahoo.com"],
  ["OMAR@HOTMAIL.COM", "omar@hotmail.com"],
  ["reach me: info@naafe-fix.com.eg", "naafe-fix"],
  ["omar at gmail dot com", "gmail"],
  ["omar (at) gmail (dot) com", "gmail"],
  ["omar[at]gmail[dot]com", "gmail"],
  ["omar @ gmail . com", "gmail"],
  ["omar＠gmail.com", "gmail"],
  ["omar\u200b@\u200bgmail\u200b.com", "gmail"],
  ["omaratgmail.com", "gmail.com"],
  ["بريدي lina.h@outlook.com لو حابب", "lina.h@outlook.com"],
  ["see https://example.com/profile/omar", "example.com"],
  ["http://bit.ly/3xYz", "bit.ly"],
  ["www.omar-fixes.com", "omar-fixes"],
  ["my site omarfixes.com", "omarfixes"],
  ["omarfixes dot com", "omarfixes"],
  ["omarfixes[.]com", "omarfixes"],
  ["wa.me/201001234567", "wa.me"],
  ["https://wa.me/201001234567?text=hi", "1234567"],
  ["t.me/omar_fix", "omar_fix"],
  ["instagram.com/omar.designs", "omar.designs"],
  ["facebook.com/omar.fix.eg", "omar.fix.eg"],
  ["شوف صفحتي fb.com/omarfix", "omarfix"],
  ["insta: omar_designs", "omar_designs"],
  ["my insta is omar.designs", "omar.designs"],
  ["IG: omar99", "omar99"],
  ["telegram: @omarfix", "omarfix"],
  ["تليجرام omar_fix", "omar_fix"],
  ["تلجرام: omarfix", "omarfix"],
  ["انستا: sara.home", "sara.home"],
  ["ضيفني سناب sara_22", "sara_22"],
  ["snap: sara22", "sara22"],
  ["follow @omar_builds", "omar_builds"],
  ["كلمني على @omar_fix", "omar_fix"],
  ["whatsapp: omar_fix", "omar_fix"],
  ["viber - omar.k", "omar.k"],
  ["tiktok: @sara.crafts", "sara.crafts"],
  ["my telegram handle is omar_99", "omar_99"],
  ["signal: omar.secure", "omar.secure"],
  ["facebook: omar.fix.eg", "omar.fix.eg"],
];

/** Must stay exactly as written: prices, dates, times, ids, quantities, ordinary talk. */
const innocent = [
  "The price is 350 EGP",
  "السعر ٣٥٠ جنيه",
  "I can do it for 1,500 EGP",
  "budget 12,500 - 15,000 EGP",
  "between 10000-15000 depending on materials",
  "15000 20000 or 25000",
  "total 1,250,000 EGP for the whole villa",
  "it costs 1500.50",
  "التكلفة ٢٥٠٠٠ جنيه",
  "on 12/05/2024 at 10:30",
  "يوم ١٢/٥/٢٠٢٤ الساعة ١٠:٣٠",
  "2024-05-12 10:30",
  "from 10:30 to 13:45",
  "31.12.2024",
  "see you at 9:00 tomorrow",
  "job #48213",
  "job JR-2024-0042",
  "ref 3f2a9c1e-4b5d-4e7f-9a1b-2c3d4e5f6a7b",
  "order ABC1001234567",
  "I need 250 tiles and 12 boxes of glue",
  "2 x 500 ml",
  "3 rooms, 2 bathrooms, 140 m2",
  "I'll be there at 5",
  "Thanks. Me too",
  "ok. co-worker will come",
  "I will send it on whatsapp tomorrow",
  "do you have whatsapp?",
  "the signal is weak here",
  "I saw it on instagram",
  "the big deal is done",
  "ممكن نتكلم واتساب؟",
  "I'll call you later",
  "let's meet at the site",
  "version 1.2.3 of the plan",
  "file invoice.pdf attached",
  "the photo.png is blurry",
  "room 12, building 7, floor 3",
  "the hotline is 19019",
  "my score was 98.5",
  "1000-2000",
  "year 2024, month 5",
  "ضغط 220 فولت و 50 هرتز",
  "الشقة ١٢٠ متر والدور ٣",
  "size 60x120 cm",
  "I need it done by 15/6",
  "pay 50% now and 50% later",
  "من ٩ الصبح لحد ٥ المغرب",
  "تمام يا هندسة",
  "e.g. paint, tiles etc.",
  "a@b",
  "",
];

describe("maskContacts", () => {
  it("has a corpus of at least 100 samples", () => {
    expect(phones.length + addresses.length + innocent.length).toBeGreaterThanOrEqual(100);
  });

  it.each(phones)("masks the phone number in %j", (text, secret) => {
    const result = maskContacts(text);
    expect(result.masked).toBe(true);
    expect(result.text).toContain(CONTACT_MASK);
    expect(digitsOf(result.text)).not.toContain(digitsOf(secret));
  });

  it.each(addresses)("masks the address or handle in %j", (text, secret) => {
    const result = maskContacts(text);
    expect(result.masked).toBe(true);
    expect(result.text.toLowerCase().replace(/[\u200b]/g, "")).not.toContain(secret);
  });

  it.each(innocent)("leaves %j alone", (text) => {
    expect(maskContacts(text)).toEqual({ text, masked: false });
  });

  it("keeps the words around what it masks", () => {
    expect(maskContacts("كلمني على 01001234567 بكرة").text).toBe(`كلمني على ${CONTACT_MASK} بكرة`);
    expect(maskContacts("mail omar@gmail.com or call +20 100 123 4567").text).toBe(
      `mail ${CONTACT_MASK} or call ${CONTACT_MASK}`,
    );
  });

  it("masks a phone number split by zero-width characters and written in mixed digits", () => {
    const text = "رقمي ٠\u200b1\u200c٠\u200d0 ١\u2060٢3 ٤٥\ufeff6٧";
    const result = maskContacts(text);
    expect(result.masked).toBe(true);
    expect(digitsOf(result.text)).toBe("");
  });
});

describe("masksContacts", () => {
  it("masks until the job is completed by default, always or never when configured", () => {
    expect(masksContacts("until-completed", "assigned")).toBe(true);
    expect(masksContacts("until-completed", "cancelled")).toBe(true);
    expect(masksContacts("until-completed", "completed")).toBe(false);
    expect(masksContacts("always", "completed")).toBe(true);
    expect(masksContacts("never", "assigned")).toBe(false);
  });
});
