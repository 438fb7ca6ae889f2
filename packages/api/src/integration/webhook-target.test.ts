import https from "node:https";
import { describe, expect, it } from "vitest";
import { isPublicAddress, PrivateAddressError, publicOnlyLookup, webhookUrlProblem } from "./webhook-target.ts";

const strict = { allowPrivate: false };

describe("webhook targets", () => {
  it.each([
    ["http://hooks.example.com/naafe", /https/],
    ["https://127.0.0.1/hooks", /non-public/],
    ["https://169.254.169.254/latest/meta-data", /non-public/],
    ["https://10.0.0.8/hooks", /non-public/],
    ["https://[::1]/hooks", /non-public/],
    ["https://[::ffff:127.0.0.1]/hooks", /non-public/],
    ["https://[fe80::1]/hooks", /non-public/],
    ["https://localhost:8443/hooks", /this machine/],
    ["https://user:pass@hooks.example.com/", /credentials/],
    ["not a url", /not a URL/],
  ])("refuse %s", (url, problem) => {
    expect(webhookUrlProblem(url, strict)).toMatch(problem);
  });

  it("accept a public HTTPS URL, and loopback over http only when private targets are allowed", () => {
    expect(webhookUrlProblem("https://hooks.example.com/naafe", strict)).toBeNull();
    expect(webhookUrlProblem("https://93.184.215.14/naafe", strict)).toBeNull();
    expect(webhookUrlProblem("http://127.0.0.1:4000/hooks", { allowPrivate: true })).toBeNull();
  });

  it("tell public unicast addresses from the rest", () => {
    expect(["8.8.8.8", "2606:4700:4700::1111"].map(isPublicAddress)).toEqual([true, true]);
    expect(["127.0.0.1", "192.168.1.1", "100.64.0.1", "0.0.0.0", "fd00::1", "224.0.0.1"].map(isPublicAddress)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it("refuse at connect time a name that resolves to a private address (DNS rebinding)", async () => {
    const error = await new Promise<Error>((resolve) => {
      const agent = new https.Agent({ lookup: publicOnlyLookup });
      const request = https.request("https://localhost:9/hooks", { agent, method: "POST" });
      request.on("error", resolve);
      request.end();
    });
    expect(error).toBeInstanceOf(PrivateAddressError);
    expect(error.message).toMatch(/localhost resolves to a non-public address/);
  });
});
