import { Trans } from "react-i18next";

type SentenceWithName =
  | "signIn.signInAs"
  | "conversation.typing"
  | "marketplace.postedBy"
  | "marketplace.offers"
  | "marketplace.accept";

/**
 * A sentence with a person's name in it, the name isolated in a <bdi>: "Sara (seeker)" keeps
 * its brackets in an Arabic sentence, and an Arabic name its place in an English one.
 */
export function WithName({ i18nKey, name, price }: { i18nKey: SentenceWithName; name: string; price?: string }) {
  return <Trans i18nKey={i18nKey} values={{ name, price }} components={{ name: <bdi /> }} />;
}
