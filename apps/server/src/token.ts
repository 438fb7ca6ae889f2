import { signToken } from "@naafe/api";
import { loadConfig } from "./env.ts";

// `pnpm token [userId] [name]`: prints a token the server configured by the same env accepts.
const [userId = "demo-seeker-sara", name] = process.argv.slice(2);
try {
  const config = loadConfig();
  console.log(signToken(config.auth, { id: userId, name: name ?? null }, "12h"));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
