import { useState } from "react";
import { SessionRoot } from "./features/session/session-root.tsx";
import { SignInScreen } from "./features/session/sign-in-screen.tsx";
import { tokenStorage } from "./features/session/token-storage.ts";

export function App() {
  const [token, setToken] = useState(tokenStorage.load);
  // Why the last session ended (expired token, refused token), shown on the sign-in screen.
  const [notice, setNotice] = useState<string | null>(null);

  function signIn(next: string) {
    tokenStorage.save(next);
    setNotice(null);
    setToken(next);
  }

  function signOut(reason: string | null) {
    tokenStorage.clear();
    setNotice(reason);
    setToken(null);
  }

  if (!token) return <SignInScreen notice={notice} onSignedIn={signIn} />;
  // A new token is a new person: `key` gives them a fresh socket and an empty cache.
  return <SessionRoot key={token} token={token} onSignOut={signOut} />;
}
