// The preload bridge: exposes window.bridge {send, onMessage} on the single 'rpc' IPC channel and
// nothing else. No logic here; the typed client in src-renderer/api/client.ts sits on top.
// Built as CommonJS (.cjs), because a sandboxed preload cannot be an ES module.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ClientMessage, ServerMessage } from '../rpc/protocol.ts';

const CHANNEL = 'rpc';

contextBridge.exposeInMainWorld('bridge', {
  send(message: ClientMessage): void {
    ipcRenderer.send(CHANNEL, message);
  },
  onMessage(listener: (message: ServerMessage) => void): () => void {
    const handler = (_event: IpcRendererEvent, message: ServerMessage) => listener(message);
    ipcRenderer.on(CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(CHANNEL, handler);
    };
  },
});
