// Types the renderer sees from its host: the Electron preload bridge (absent in web mode) and .vue files.
/// <reference types="vite/client" />
import type { ClientMessage, ServerMessage } from '@rpc/protocol.ts';

declare global {
  interface Window {
    /** Set by src-main/preload/index.ts under Electron only; used solely by src-renderer/api/client.ts. */
    bridge?: {
      send(message: ClientMessage): void;
      onMessage(listener: (message: ServerMessage) => void): () => void;
    };
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

export {};
