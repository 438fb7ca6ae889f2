import type { Services } from "@naafe/api";

/** Seeded users one can sign in as in demo mode: a seeker and two providers. */
export const demoUsers = [
  { id: "demo-seeker-sara", name: "Sara (seeker)" },
  { id: "demo-provider-omar", name: "Omar (provider)" },
  { id: "demo-provider-lina", name: "Lina (provider)" },
] as const;

const [sara, omar, lina] = demoUsers;

/**
 * Walks the seed's usage flow once, so a fresh demo opens on a real conversation and an offer
 * still waiting to be accepted. Does nothing when the demo data is already there.
 */
export async function seedDemo({ prisma, marketplace, chat }: Services) {
  if (await prisma.jobRequest.count({ where: { seekerId: sara.id } })) return;
  for (const user of demoUsers) await marketplace.ensureUser(user);

  const tap = await marketplace.createJobRequest(sara, "Fix a leaking kitchen tap");
  const omarsOffer = await marketplace.createOffer(omar, tap.id, 80);
  await marketplace.createOffer(lina, tap.id, 95);
  const { conversation } = await marketplace.acceptOffer(sara.id, omarsOffer.id);
  const say = (from: { id: string }, content: string) =>
    chat.messages.send(from.id, { conversationId: conversation.id, content });
  await say(omar, "Hi Sara, thanks for choosing me! Is tomorrow at 9 a good time?");
  await say(sara, "Tomorrow at 9 is perfect. The tap is under the kitchen window.");
  await say(omar, "Great, I'll bring a new cartridge just in case. See you then!");

  // An offer still open, so the demo can walk the accept step itself.
  const paint = await marketplace.createJobRequest(sara, "Paint the living room");
  await marketplace.createOffer(lina, paint.id, 450);
}
