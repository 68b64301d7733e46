// The renderer's one gateway to the services: picks the transport (the Electron preload bridge when
// present, else a WebSocket to `qatwb serve` using the token from the page URL) and returns the
// typed client. The only file that touches window.bridge or WebSocket.
import { ref, type Ref } from 'vue';
import type { Services } from '@contract';
import { createRpcClient, type RpcClient } from '@rpc/client.ts';
import type { ClientMessage, ServerMessage, Transport } from '@rpc/protocol.ts';
import { socketTransport, type ConnectionState } from './socket-transport.ts';

export type HostKind = 'desktop' | 'web';

const TOKEN_KEY = 'qatwb.token';

/** Reads ?token= once, keeps it for this tab (so reload works), and removes it from the address bar. */
function webToken(): string {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function connect(): { transport: Transport<ClientMessage, ServerMessage>; host: HostKind; state: Ref<ConnectionState> } {
  const bridge = window.bridge;
  if (bridge) {
    return { transport: { send: (m) => bridge.send(m), onMessage: (l) => bridge.onMessage(l) }, host: 'desktop', state: ref('open') };
  }
  const token = webToken();
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc?token=${encodeURIComponent(token)}`;
  const transport = socketTransport(() => new WebSocket(wsUrl));
  const state = ref<ConnectionState>(transport.state());
  transport.onState((s) => (state.value = s));
  return { transport, host: 'web', state };
}

const connection = connect();
const rpc: RpcClient = createRpcClient(connection.transport);

/** Typed services: `await api.project.open({ path })`. Only stores should call these. */
export const api: Services = rpc.services;
/** Subscribes to a service event; returns the disposer. Used by stores. */
export const onEvent: RpcClient['on'] = (service, event, listener) => rpc.on(service, event, listener);
/** Which host runs the services, and the connection state (always 'open' on desktop). */
export const host: HostKind = connection.host;
export const connectionState: Readonly<Ref<ConnectionState>> = connection.state;
/** Web mode: whether this tab has a token at all (else every connection is refused). */
export const hasToken: boolean = connection.host === 'desktop' || !!sessionStorage.getItem(TOKEN_KEY);
