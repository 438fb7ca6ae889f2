import type { Database } from "@naafe/db";
import { z } from "zod";
import { defineJob } from "../platform/jobs.ts";
import type { BlobStorage } from "../platform/storage.ts";
import { deleteExpiredUploads } from "./service.ts";

/** Every ten minutes: uploads never sent within their window are deleted, bytes and rows. */
export const deleteExpiredUploadsJob = defineJob({
  name: "attachments.cleanup",
  payload: z.object({}),
  cron: "*/10 * * * *",
  retry: { limit: 1, delaySeconds: 60 },
  timeoutSeconds: 300,
});

export const attachmentJobTypes = [deleteExpiredUploadsJob];

/** The cleanup's worker: batches until nothing expired is left. */
export function attachmentWorkers({ db, storage }: { db: Pick<Database, "query">; storage: BlobStorage }) {
  return [
    deleteExpiredUploadsJob.worker(async (_payload, { signal }) => {
      while (!signal.aborted && (await deleteExpiredUploads({ db, storage, now: new Date() })) > 0) {}
    }),
  ];
}
