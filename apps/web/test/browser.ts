import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AppRouter } from "@naafe/api";
import { transformer } from "@naafe/api/transformer";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { loadConfig } from "../../server/src/env.ts";
import { type RunningServer, startServer } from "../../server/src/server.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const TOKEN_KEY = "naafe-chat.token";
const webRoot = fileURLToPath(new URL("..", import.meta.url));

/** The production bundle, in a folder of its own so a server serving apps/web/dist is left alone. */
export async function buildWeb(outDir: string) {
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  const nodeEnv = process.env["NODE_ENV"];
  process.env["NODE_ENV"] = "production";
  try {
    await build({ root: webRoot, logLevel: "warn", build: { outDir, emptyOutDir: true } });
  } finally {
    process.env["NODE_ENV"] = nodeEnv;
  }
}

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: the browser tests need it (apt-get install -y chromium).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

export type Api = ReturnType<typeof apiClient>;

export function apiClient(url: string, token?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${url}/trpc`,
        transformer,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      }),
    ],
  });
}

/** A built app, a real server on a fresh database (with `env` on top), and Chromium; `close` removes all three. */
export async function startBrowserApp(env: Record<string, string> = {}) {
  const work = mkdtempSync(join(tmpdir(), "naafe-web-e2e-"));
  const webDist = join(work, "dist");
  await buildWeb(webDist);
  const start = (port: number) =>
    startServer(
      loadConfig({
        PORT: String(port),
        HOST: "127.0.0.1",
        DATA_DIR: join(work, "data"),
        WEB_DIST: webDist,
        LOG_LEVEL: "warn",
        ...env,
      }),
    );
  const [server, browser]: [RunningServer, Browser] = await Promise.all([start(0), launchChromium()]);
  const pageErrors: string[] = [];

  async function signIn(userId: string) {
    const { token } = await apiClient(server.url).auth.demoSignIn.mutate({ userId });
    return { token, api: apiClient(server.url, token) };
  }

  /** A tab in a context of its own (its own storage), signed in as `token` on every load when given. */
  async function openPage(options: BrowserContextOptions & { token?: string } = {}): Promise<Page> {
    const { token, ...contextOptions } = options;
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, ...contextOptions });
    if (token) {
      await context.addInitScript(
        ([key, value]) => {
          if (!sessionStorage.getItem(key)) sessionStorage.setItem(key, value);
        },
        [TOKEN_KEY, token] as const,
      );
    }
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    return page;
  }

  /** Sara posts a job, Omar offers, Sara accepts: the conversation between them. */
  async function openConversation(title: string) {
    const sara = await signIn("demo-seeker-sara");
    const omar = await signIn("demo-provider-omar");
    const job = await sara.api.jobRequest.create.mutate({ title });
    const offer = await omar.api.offer.create.mutate({ jobRequestId: job.id, price: 350 });
    const { conversation } = await sara.api.offer.accept.mutate({ offerId: offer.id });
    return { conversationId: conversation.id, sara, omar };
  }

  return {
    server,
    browser,
    pageErrors,
    signIn,
    openPage,
    openConversation,
    async close() {
      await browser.close();
      await server.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

export type BrowserApp = Awaited<ReturnType<typeof startBrowserApp>>;

/** axe-core's rules run in the page; what is serious or critical, as readable lines. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  const source = await import("axe-core").then((axe) => axe.default.source);
  // Evaluated rather than added as a <script>: the app's Content-Security-Policy refuses inline scripts.
  await page.evaluate(source);
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: typeof import("axe-core") }).axe;
    return axe.run(document, { resultTypes: ["violations"] });
  });
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`,
    );
}
