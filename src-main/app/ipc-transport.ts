// The Electron transport: rpc/protocol.ts messages over the single 'rpc' IPC channel. Only our own
// windows' main frames, showing our renderer, may call; every message is validated like a web
// socket frame. Calls still running when a window goes away are cancelled.
import { ipcMain, type IpcMainEvent, type WebContents, type WebFrameMain } from 'electron';
import type { ServerMessage } from '../rpc/protocol.ts';
import { validationError, type RpcServer } from '../rpc/serve.ts';
import { ClientMessageSchema } from '../server/wire-schema.ts';

export const RPC_CHANNEL = 'rpc';

interface Peer {
  send(m: ServerMessage): void;
  inFlight: Set<number>;
}

export function installIpcTransport(rpc: RpcServer, isTrustedUrl: (url: string) => boolean): () => void {
  const peers = new Map<number, Peer>();

  function peerFor(contents: WebContents): Peer {
    const existing = peers.get(contents.id);
    if (existing) return existing;
    const inFlight = new Set<number>();
    // One stable reply function per window: the RPC server keys its calls by it.
    const send = (m: ServerMessage) => {
      if (m.kind === 'result' || m.kind === 'error') inFlight.delete(m.id);
      if (!contents.isDestroyed()) contents.send(RPC_CHANNEL, m);
    };
    const peer = { send, inFlight };
    peers.set(contents.id, peer);
    const removeClient = rpc.addClient(send);
    contents.once('destroyed', () => {
      removeClient();
      for (const id of inFlight) rpc.handle({ kind: 'cancel', id }, send);
      peers.delete(contents.id);
    });
    return peer;
  }

  function isTrustedFrame(frame: WebFrameMain | null): boolean {
    return !!frame && frame.parent === null && isTrustedUrl(frame.url);
  }

  const onMessage = (event: IpcMainEvent, raw: unknown) => {
    if (!isTrustedFrame(event.senderFrame)) {
      console.warn(`qatwb: ignored an rpc message from an untrusted frame (${event.senderFrame?.url ?? 'gone'}).`);
      return;
    }
    const peer = peerFor(event.sender);
    const parsed = ClientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : 0;
      peer.send({ kind: 'error', id, error: validationError(parsed.error, 'message').toJSON() });
      return;
    }
    if (parsed.data.kind === 'call') peer.inFlight.add(parsed.data.id);
    rpc.handle(parsed.data, peer.send);
  };
  ipcMain.on(RPC_CHANNEL, onMessage);
  return () => ipcMain.off(RPC_CHANNEL, onMessage);
}
