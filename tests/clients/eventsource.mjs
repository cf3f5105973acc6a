// Real-client test: the streaming route read by a standard EventSource client for Node
// (`eventsource` 3.x, POST through its `fetch` option). Checks the event order of a launch and a
// carousel button turn of the catalogue agent: `trace` events numbered 1, 2, … in the order the
// agent says them, an optional `state`, then `end` last.
//
// usage: node eventsource.mjs <baseURL>   (env FLOWDM_API_KEY: a DM key of the catalogue project)
import { EventSource } from 'eventsource';

const base = process.argv[2] || process.env.FLOWDM_URL;
if (!base) throw new Error('usage: node eventsource.mjs <baseURL>');
const KEY = process.env.FLOWDM_API_KEY || '';
const PROJECT = '64c3f0000000000000000001';
const USER = `es-${process.pid}-${Date.now()}`;

function fail(msg) {
  console.error(`eventsource.mjs: ${msg}`);
  process.exit(1);
}

// One streamed turn: resolves with the events in arrival order [{event, id, data}].
function streamTurn(action, query) {
  const url = `${base}/v2/project/${PROJECT}/user/${encodeURIComponent(USER)}/interact/stream?${query}`;
  return new Promise((resolve, reject) => {
    const events = [];
    let posts = 0;
    const es = new EventSource(url, {
      fetch: (input, init) => {
        posts += 1;
        if (posts > 1) {
          // A reconnect would run the turn again: the client must have closed on `end`.
          reject(new Error('the client reconnected (a second POST)'));
        }
        return fetch(input, {
          ...init,
          method: 'POST',
          headers: {
            ...init.headers,
            'content-type': 'application/json',
            ...(KEY ? { authorization: KEY } : {}),
          },
          body: JSON.stringify({ action }),
        });
      },
    });
    const timer = setTimeout(() => {
      es.close();
      reject(new Error(`no end event within 20 s; got ${JSON.stringify(events)}`));
    }, 20000);
    const record = (name) => (e) => {
      events.push({ event: name, id: e.lastEventId, data: JSON.parse(e.data) });
      if (name === 'end') {
        es.close();
        clearTimeout(timer);
        resolve(events);
      }
    };
    for (const name of ['trace', 'state', 'end']) es.addEventListener(name, record(name));
    es.addEventListener('error', (e) => {
      es.close();
      clearTimeout(timer);
      if (e && e.data) reject(new Error(`error event: ${e.data}`));
      else reject(new Error(`stream error: ${e && (e.message || e.code)}`));
    });
  });
}

function check(events, expected, { state }) {
  const names = events.map((e) => e.event);
  if (names[names.length - 1] !== 'end') fail(`end is not last: ${names}`);
  if (names.filter((n) => n === 'end').length !== 1) fail(`one end expected: ${names}`);
  if (state && names[names.length - 2] !== 'state') fail(`state is not just before end: ${names}`);
  if (!state && names.includes('state')) fail(`unexpected state event: ${names}`);
  const traces = events.filter((e) => e.event === 'trace');
  traces.forEach((t, i) => {
    if (t.id !== String(i + 1)) fail(`trace ${i} has id ${JSON.stringify(t.id)}, expected ${i + 1}`);
  });
  const types = traces.map((t) => t.data.type);
  if (JSON.stringify(types) !== JSON.stringify(expected.map((x) => x[0]))) {
    fail(`trace types ${JSON.stringify(types)}, expected ${JSON.stringify(expected.map((x) => x[0]))}`);
  }
  expected.forEach(([type, test], i) => {
    if (test && !test(traces[i].data)) fail(`trace ${i + 1} (${type}) is not as expected: ${JSON.stringify(traces[i].data)}`);
  });
  const endEvent = events[events.length - 1];
  if (endEvent.data.type !== 'end') fail(`end data: ${JSON.stringify(endEvent.data)}`);
  return traces;
}

const msg = (needle) => (t) => typeof t.payload?.message === 'string' && t.payload.message.includes(needle);

const launch = await streamTurn({ type: 'launch' }, 'completion_events=true');
check(
  launch,
  [
    ['text', msg('Welcome to the Acme store! All prices are in USD.')],
    ['visual'],
    ['text', msg("Here are today's products:")],
    ['carousel', (t) => t.payload.cards.map((c) => c.title).join() === 'Lamp,Chair,Desk'],
  ],
  { state: false },
);

const chair = await streamTurn(
  { type: 'path-64c3b0000000000000000002', payload: { label: 'Buy Chair', actions: [] } },
  'completion_events=true&state=true',
);
const traces = check(
  chair,
  [
    ['path', (t) => t.payload.path === 'jump'],
    ['text', msg('You picked Chair for 120 USD.')],
    ['cardV2', (t) => t.payload.title === 'Your order: Chair'],
    ['text', msg('Good news: orders over 100 USD ship for free!')],
    ['text', (t) => /Thanks for shopping with Acme!|Thank you! Come back soon\./.test(t.payload.message)],
    ['end'],
  ],
  { state: true },
);
const stateEvent = chair[chair.length - 2].data;
if (stateEvent.type !== 'state' || typeof stateEvent.state !== 'object') fail(`state event: ${JSON.stringify(stateEvent)}`);
console.log(`eventsource.mjs: PASSED (launch ${launch.length} events, button turn ${chair.length} events, ${traces.length} traces)`);
