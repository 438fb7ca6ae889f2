export type ConnectionState = "connecting" | "live" | "reconnecting" | "catching-up";

const labels: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  "catching-up": "Catching up…",
};

const hints: Record<ConnectionState, string> = {
  connecting: "Opening the live connection.",
  live: "New messages arrive as they are sent.",
  reconnecting: "The live connection dropped; trying again. Messages sent meanwhile will appear.",
  "catching-up": "Back online; loading what was missed.",
};

export function ConnectionStatus({ state }: { state: ConnectionState }) {
  return (
    <span className="connection" data-state={state} role="status" title={hints[state]}>
      <span className="connection-dot" aria-hidden="true" />
      {labels[state]}
    </span>
  );
}
