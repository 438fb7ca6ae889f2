// Per tab, not per browser: two tabs can be two different people, which is how one demos a chat.
const KEY = "naafe-chat.token";

export const tokenStorage = {
  load: (): string | null => sessionStorage.getItem(KEY),
  save: (token: string) => sessionStorage.setItem(KEY, token),
  clear: () => sessionStorage.removeItem(KEY),
};
