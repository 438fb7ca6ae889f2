/** Says loudly which real services the run covers, and refuses to let CI skip them. */
export default function setup() {
  const missing = ["DATABASE_URL", "REDIS_URL"].filter((name) => !process.env[name]);
  if (missing.length === 0) return;
  if (process.env["CI"]) throw new Error(`CI must test against the real services; set ${missing.join(" and ")}.`);
  const line = "!".repeat(78);
  console.warn(
    `\n${line}\n  SKIPPED: the tests that need ${missing.join(" and ")} (unset); PGlite and in-memory tests still run.\n  .ci/run sets them to the local PostgreSQL and Redis.\n${line}\n`,
  );
}
