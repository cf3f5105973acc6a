// The real `@voiceflow/sdk-runtime` 1.69.1 WebSocket runtime client (the transport of today's web
// chat) holding a conversation with flowdm over socket.io at /v4/interact/socket:
// launch, a button, a stopping custom action and its resume, a reconnect with the session key,
// and the end of the session.
// usage: node sdk-runtime-socket.mjs <baseURL> [websocket|polling]
// (payment agent of diagrams/payment.vf). Without a transport it runs the conversation twice:
// over the WebSocket (the client's first choice), then over HTTP long-polling, forced through the
// client's own `window.voiceflow_io` hook.

// The client is written for browsers: it reads `window`, `navigator` and `location`.
globalThis.window ??= globalThis;
globalThis.navigator ??= { userAgent: 'flowdm-client-test' };
globalThis.location ??= { hostname: '127.0.0.1' };

const { WebSocketRuntimeClient } = await import('@voiceflow/sdk-runtime');
const { io } = await import('socket.io-client');

const [baseURL, arg] = process.argv.slice(2);
const only = ['websocket', 'polling'].includes(arg) ? arg : undefined;
for (const transport of only ? [only] : ['websocket', 'polling']) await conversation(transport);
process.exit(0);

async function conversation(transport) {
  const transports = [];
  globalThis.voiceflow_io = (url, options) => {
    const socket = io(url, transport === 'polling' ? { ...options, transports: ['polling'] } : options);
    socket.io.on('open', () => transports.push(socket.io.engine.transport.name));
    return socket;
  };
  const PROJECT = '64a1f0000000000000000001';
  const VERSION = '64a1f0000000000000000002';
  const userID = `sdk-socket-${transport}-${process.pid}`;

  const fail = (message) => {
    console.error('FAIL', message);
    process.exit(1);
  };
  const assert = (condition, message) => condition || fail(message);
  const eq = (a, b, message) =>
    assert(JSON.stringify(a) === JSON.stringify(b), `${message}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);

  // Every trace is kept (a component that handles all of them).
  const everything = { canHandle: () => true, handle: (_ctx, trace) => trace };

  function client(keys) {
    return new WebSocketRuntimeClient({
      baseURL,
      traces: [everything],
      onSessionKeyChange: (key) => keys.push(key),
    });
  }

  async function turn(rt, request) {
    const stream = await rt.interactStream(() => ({}), request);
    const traces = [];
    for await (const trace of stream) traces.push(trace);
    return traces;
  }

  const request = (extra) => ({ projectID: PROJECT, userID, environment: 'production', webchatVersion: 'test', ...extra });
  const types = (traces) => traces.map((t) => t.type);

  // 1. A new session: start, session-key-update, launch.
  const keys = [];
  const rt = client(keys);
  const launch = await turn(rt, request({ action: { type: 'launch' } }));
  eq(rt.versionID, VERSION, 'start answers the version');
  assert(typeof keys.at(-1) === 'string' && keys.at(-1).startsWith('vf4.'), `a session key: ${keys}`);
  eq(types(launch), ['text', 'text', 'choice', 'no-reply'], 'launch traces');
  const choice = launch.find((t) => t.type === 'choice');
  const pay = choice.payload.buttons.find((b) => b.name.includes('25'));
  assert(pay, `a "Pay $25" button: ${JSON.stringify(choice.payload.buttons)}`);

  // 2. The button: the payment custom action stops the turn.
  const stop = await turn(rt, request({ action: pay.request }));
  eq(types(stop), ['path', 'Pay Credit Card'], 'the button reaches the custom action');
  const action = stop[1];
  assert(action.payload !== undefined && Array.isArray(action.paths), `a stop trace with paths: ${JSON.stringify(action)}`);

  // 3. Reconnect with the session key (a new client, as after a page reload) and resume the stop.
  await rt.disconnect();
  const key = keys.at(-1);
  const keys2 = [];
  const rt2 = client(keys2);
  const resumed = await turn(rt2, request({ sessionKey: key, action: { type: 'success' } }));
  eq(keys2, [], 'the current key needs no new session');
  const said = resumed.filter((t) => t.type === 'text').map((t) => t.payload.message);
  eq(said, ['Payment of $25 received. Thank you!'], 'the resumed path');

  // 4. End the session: completed, then the server's session-ended.
  const ended = new Promise((resolve) => rt2.emitter.on('runtime-session-end', resolve));
  await turn(rt2, request({ action: { type: 'end' } }));
  await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error('no session-ended')), 5000))]);
  await rt2.disconnect();

  // 5. The ended key is stale: a client holding it is told a new session is required.
  const rt3 = client([]);
  let stale = null;
  try {
    await turn(rt3, request({ sessionKey: key, action: { type: 'launch' } }));
  } catch (e) {
    stale = e;
  }
  assert(stale && /stale/i.test(stale.message), `a stale key is refused: ${stale}`);
  await rt3.disconnect();

  assert(transports.length >= 3 && transports.every((t) => t === transport), `transport ${transport}: ${transports}`);
  console.log(`SDK-RUNTIME 1.69.1 SOCKET (${transport}) PASSED`);
}
