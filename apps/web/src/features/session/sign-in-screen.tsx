import { QueryClient, QueryClientProvider, useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { describeError } from "../../describe-error.ts";
import { createPublicClient, TRPCProvider, useTRPC } from "../../trpc.ts";

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

  function submitToken(event: FormEvent) {
    event.preventDefault();
    const token = pasted.trim();
    if (token) onSignedIn(token);
  }

  return (
    <main className="sign-in">
      <h1>
        <span className="brand-mark" aria-hidden="true" /> Naafe Chat
      </h1>
      <p className="muted">Talk with the other side of a job, once an offer is accepted.</p>
      {notice && (
        <p className="notice" role="alert">
          {notice}
        </p>
      )}

      <section aria-labelledby="demo-heading">
        <h2 id="demo-heading">Try it as a demo user</h2>
        {demoUsers.isPending && <p className="muted">Loading demo users…</p>}
        {demoUsers.isError && (
          <p className="error" role="alert">
            {describeError(demoUsers.error)}
          </p>
        )}
        {demoUsers.data?.length === 0 && <p className="muted">Demo sign-in is off on this server. Paste a token.</p>}
        <ul className="demo-users">
          {demoUsers.data?.map((user) => (
            <li key={user.id}>
              <button
                type="button"
                className="button"
                disabled={demoSignIn.isPending}
                onClick={() => demoSignIn.mutate({ userId: user.id })}
              >
                Sign in as {user.name ?? user.id}
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
        <h2 id="token-heading">Or use a token</h2>
        <form onSubmit={submitToken} className="token-form">
          <label htmlFor={tokenId}>Access token (JWT)</label>
          <textarea
            id={tokenId}
            value={pasted}
            onChange={(event) => setPasted(event.target.value)}
            rows={3}
            spellCheck={false}
            autoComplete="off"
            placeholder="eyJhbGciOi…"
          />
          <button type="submit" className="button" disabled={!pasted.trim()}>
            Sign in with token
          </button>
        </form>
        <p className="muted small">
          Get one with <code>pnpm token demo-seeker-sara</code>.
        </p>
      </section>
    </main>
  );
}
