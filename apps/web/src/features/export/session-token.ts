import { createContext, useContext } from "react";

/** The signed-in person's token, for the few plain HTTP downloads outside tRPC (exports). */
export const SessionToken = createContext<string | null>(null);

export function useSessionToken(): string | null {
  return useContext(SessionToken);
}
