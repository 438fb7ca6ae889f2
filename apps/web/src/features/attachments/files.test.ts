import { describe, expect, it } from "vitest";
import { describeError } from "../../describe-error.ts";
import { i18n } from "../i18n/i18n.ts";
import {
  chooseFiles,
  claimedType,
  fileKind,
  fitWithin,
  formatSize,
  isImage,
  MAX_ATTACHMENTS,
  uploadErrorInfo,
} from "./files.ts";

const file = (name: string, size: number, type = "") => new File([new Uint8Array(size)], name, { type });

describe("formatSize", () => {
  it("says bytes, kilobytes and megabytes, to one decimal", () => {
    expect(formatSize(1, "en")).toBe("1 byte");
    expect(formatSize(900, "en")).toBe("900 bytes");
    expect(formatSize(1536, "en")).toBe("1.5 kB");
    expect(formatSize(10 * 1024 * 1024, "en")).toBe("10 MB");
    expect(formatSize(250 * 1024 * 1024, "en")).toBe("250 MB");
  });

  it("uses the person's digits", () => {
    expect(formatSize(1536, "ar-EG")).toContain("١٫٥");
  });
});

describe("chooseFiles", () => {
  it("leaves out empty files and those past the per-message limit", () => {
    const picked = [file("a.png", 3), file("empty.txt", 0), file("b.pdf", 5)];
    const choice = chooseFiles(picked, MAX_ATTACHMENTS - 1);
    expect(choice.accepted.map((f) => f.name)).toEqual(["a.png"]);
    expect(choice.empty).toBe(1);
    expect(choice.tooMany).toBe(1);
  });

  it("takes everything when there is room", () => {
    const choice = chooseFiles([file("a.png", 3), file("b.pdf", 5)], 0);
    expect(choice).toEqual({ accepted: [expect.any(File), expect.any(File)], empty: 0, tooMany: 0 });
  });

  it("takes nothing once the message is full", () => {
    expect(chooseFiles([file("a.png", 3)], MAX_ATTACHMENTS + 2)).toMatchObject({ accepted: [], tooMany: 1 });
  });
});

describe("types", () => {
  it("knows the photos the server shows, and the kind of other files", () => {
    expect(isImage("image/png")).toBe(true);
    expect(isImage("image/svg+xml")).toBe(false);
    expect(fileKind("application/pdf")).toBe("pdf");
    expect(fileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")).toBe("spreadsheet");
    expect(fileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document")).toBe("document");
    expect(fileKind("application/vnd.ms-powerpoint")).toBe("presentation");
    expect(fileKind("text/plain")).toBe("text");
    expect(fileKind("application/zip")).toBe("file");
  });

  it("claims a generic type when the browser knows none", () => {
    expect(claimedType({ type: "" })).toBe("application/octet-stream");
    expect(claimedType({ type: "image/jpeg" })).toBe("image/jpeg");
  });
});

describe("fitWithin", () => {
  it("keeps the photo's shape inside the box, never enlarging it", () => {
    expect(fitWithin(640, 480, 240)).toEqual({ width: 240, height: 180 });
    expect(fitWithin(300, 1200, 240)).toEqual({ width: 60, height: 240 });
    expect(fitWithin(100, 50, 240)).toEqual({ width: 100, height: 50 });
    expect(fitWithin(undefined, undefined, 240)).toEqual({ width: 240, height: 240 });
  });
});

describe("uploadErrorInfo", () => {
  it("reads the upload route's JSON error", () => {
    const body = JSON.stringify({ error: { code: "UNSUPPORTED_MEDIA_TYPE", message: "x.png is not a photo." } });
    expect(uploadErrorInfo(415, body)).toEqual({
      code: "UNSUPPORTED_MEDIA_TYPE",
      message: "x.png is not a photo.",
      retryAfter: null,
    });
  });

  it("falls back to the status, and to 'no answer' when there was none", () => {
    expect(uploadErrorInfo(413, "<html>too big</html>").code).toBe("PAYLOAD_TOO_LARGE");
    expect(uploadErrorInfo(502, "").code).toBe("INTERNAL_SERVER_ERROR");
    expect(uploadErrorInfo(0, "").code).toBeUndefined();
  });

  it("is said in the person's language", async () => {
    await i18n.changeLanguage("ar");
    try {
      expect(describeError(uploadErrorInfo(413, ""))).toBe(i18n.t("errors.PAYLOAD_TOO_LARGE"));
      expect(describeError(uploadErrorInfo(415, "{}"))).toMatch(/لا يمكن إرسال/);
    } finally {
      await i18n.changeLanguage("en");
    }
    // English shows the server's sentence, which names the file.
    const body = JSON.stringify({ error: { code: "PAYLOAD_TOO_LARGE", message: "big.jpg is over 10 MB." } });
    expect(describeError(uploadErrorInfo(413, body))).toBe("big.jpg is over 10 MB.");
  });
});
