import { QueryClient, QueryClientProvider, useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { Trans } from "react-i18next";
import { describeError } from "../../describe-error.ts";
import { createPublicClient, TRPCProvider, useTRPC } from "../../trpc.ts";
import { useLocale } from "../i18n/i18n.ts";
import { WithName } from "../i18n/with-name.tsx";
import { LanguagePicker } from "../settings/language-picker.tsx";

interface Props {
  notice: string | null;
  onSignedIn: (token: string) => void;
}

export function SignInScreen(props: Props) {
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: 1 } } }));
  const [client] = useState(createPublicClient);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={client} queryClient={queryClient}>
        <SignIn {...props} />
      </TRPCProvider>
    </QueryClientProvider>
  );
}

function SignIn({ notice, onSignedIn }: Props) {
  const trpc = useTRPC();
  const demoUsers = useQuery(trpc.auth.demoUsers.queryOptions());
  const demoSignIn = useMutation(trpc.auth.demoSignIn.mutationOptions({ onSuccess: ({ token }) => onSignedIn(token) }));
  const [pasted, setPasted] = useState("");
  const tokenId = useId();
  const { t } = useLocale();

  function submitToken(event: FormEvent) {
    event.preventDefault();
    const token = pasted.trim();
    if (token) onSignedIn(token);
  }

  return (
    <main className="sign-in">
      <div className="sign-in-top">
        <h1>
          <span className="brand-mark" aria-hidden="true" /> {t("app.name")}
        </h1>
        <LanguagePicker />
      </div>
      <p className="muted">{t("signIn.tagline")}</p>
      {notice && (
        <p className="notice" role="alert">
          {notice}
        </p>
      )}

      <section aria-labelledby="demo-heading">
        <h2 id="demo-heading">{t("signIn.demoHeading")}</h2>
        {demoUsers.isPending && <p className="muted">{t("signIn.loadingDemoUsers")}</p>}
        {demoUsers.isError && (
          <p className="error" role="alert">
            {describeError(demoUsers.error)}
          </p>
        )}
        {demoUsers.data?.length === 0 && <p className="muted">{t("signIn.demoOff")}</p>}
        <ul className="demo-users">
          {demoUsers.data?.map((user) => (
            <li key={user.id}>
              <button
                type="button"
                className="button"
                disabled={demoSignIn.isPending}
                onClick={() => demoSignIn.mutate({ userId: user.id })}
              >
                <WithName i18nKey="signIn.signInAs" name={user.name ?? user.id} />
              </button>
            </li>
          ))}
        </ul>
        {demoSignIn.isError && (
          <p className="error" role="alert">
            {describeError(demoSignIn.error)}
          </p>
        )}
      </section>

      <section aria-labelledby="token-heading">
        <h2 id="token-heading">{t("signIn.tokenHeading")}</h2>
        <form onSubmit={submitToken} className="token-form">
          <label htmlFor={tokenId}>{t("signIn.tokenLabel")}</label>
          <textarea
            id={tokenId}
            value={pasted}
            onChange={(event) => setPasted(event.target.value)}
            rows={3}
            spellCheck={false}
            autoComplete="off"
            dir="auto"
            placeholder="eyJhbGciOi…"
          />
          <button type="submit" className="button" disabled={!pasted.trim()}>
            {t("signIn.tokenSubmit")}
          </button>
        </form>
        <p className="muted small">
          <Trans i18nKey="signIn.tokenHint" components={{ code: <code dir="ltr" /> }} />
        </p>
      </section>
    </main>
  );
}
