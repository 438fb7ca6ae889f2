import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/**
 * Frames sent to one WebSocket in the same tick leave in one write. A sender's
 * acknowledgement and its own copy of the message are produced together, and every write is
 * a system call, which costs more than everything else a message does on a busy machine.
 */
export function writePerTick(ws: WebSocket, socket: Duplex) {
  const send = ws.send.bind(ws) as (...args: unknown[]) => void;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  ws.send = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    send(...args);
  }) as WebSocket["send"];
}
