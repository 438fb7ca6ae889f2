/**
 * Naafe's notices: the text of every system message the server writes, in one place. They are
 * stored in English (what exports, search and other clients see); `readNotice` recognises each,
 * so an app can show it in its reader's language. No imports: the web app uses this file too.
 */
export const notices = {
  /** The notice a conversation opens with; `price` as written ("350", "1250.5"), or null. */
  offerAccepted: (price: string | null) => (price === null ? "Offer accepted" : `Offer accepted: ${price} EGP`),
  closedByNaafe: "This conversation was closed by Naafe.",
  reopenedByNaafe: "This conversation was reopened by Naafe.",
  reviewedByNaafe: "A Naafe moderator reviewed this conversation after a report.",
  /** The marketplace closed or reopened the conversation (through the service API). */
  closed: "This conversation was closed; it can be read but no longer written to.",
  reopened: "This conversation was reopened.",
  jobClosed: (status: JobEnd) => `This job was marked ${status}; the conversation is now read-only.`,
  contactShared: (name: string | null, phone: string | null, email: string | null) =>
    [
      `${name ?? SOMEONE} shared their contact details.`,
      ...(phone ? [`Phone: ${phone}`] : []),
      ...(email ? [`Email: ${email}`] : []),
    ].join("\n"),
} as const;

type JobEnd = "completed" | "cancelled";
/** Who shared contact details when their token carries no name. */
const SOMEONE = "The other participant";

/** A notice recognised from its text, with what it names. */
export type Notice =
  | { kind: "offerAccepted"; price: string | null }
  | { kind: "closedByNaafe" | "reopenedByNaafe" | "reviewedByNaafe" | "closed" | "reopened" }
  | { kind: "jobClosed"; status: JobEnd }
  | { kind: "contactShared"; name: string | null; phone: string | null; email: string | null };

const fixed = ["closedByNaafe", "reopenedByNaafe", "reviewedByNaafe", "closed", "reopened"] as const;
const OFFER_ACCEPTED = /^Offer accepted(?:: (\d+(?:\.\d+)?) EGP)?$/;
const JOB_CLOSED = /^This job was marked (completed|cancelled); the conversation is now read-only\.$/;
const CONTACT_SHARED = /^(.+) shared their contact details\.((?:\nPhone: .+)?)((?:\nEmail: .+)?)$/;

/** Which notice `content` is, or null for any other text. */
export function readNotice(content: string): Notice | null {
  for (const kind of fixed) if (content === notices[kind]) return { kind };
  const offer = OFFER_ACCEPTED.exec(content);
  if (offer) return { kind: "offerAccepted", price: offer[1] ?? null };
  const job = JOB_CLOSED.exec(content);
  if (job) return { kind: "jobClosed", status: job[1] as JobEnd };
  const contact = CONTACT_SHARED.exec(content);
  if (contact) {
    const [, name = "", phone = "", email = ""] = contact;
    return {
      kind: "contactShared",
      name: name === SOMEONE ? null : name,
      phone: phone ? phone.slice("\nPhone: ".length) : null,
      email: email ? email.slice("\nEmail: ".length) : null,
    };
  }
  return null;
}
