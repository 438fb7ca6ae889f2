// The browser tests drive Debian's Chromium. On a fresh machine, install it when we can (root
// with apt-get); otherwise say what to do instead of letting the browser tests fail obscurely.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const path = "/usr/bin/chromium";
if (!existsSync(path)) {
  const canInstall = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
  if (!canInstall) {
    console.error(`The browser tests need Chromium at ${path}.`);
    console.error("Install it (Debian/Ubuntu: sudo apt-get install chromium) and run the tests again.");
    process.exit(1);
  }
  console.log("Installing Chromium for the browser tests (apt-get install chromium)…");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env });
}
