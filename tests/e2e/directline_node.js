/* The real Direct Line client, botframework-directlinejs (npm, pinned in webchat/package-lock.json), driven from Node
 * against the bot's embedded Direct Line. Run by tests/e2e/test_directline_node.py:
 *
 *   node directline_node.js '{"modules": "<webchat/node_modules>", "domain": "http://127.0.0.1:PORT/v3/directline",
 *                            "token": "...", "userId": "...", "steps": ["question", ...], "options": {}}'
 *
 * The client keeps its DEFAULT options (WebSocket on) unless "options" says otherwise (the polling test passes
 * {"webSocket": false}). Node 20 has neither a global WebSocket nor XMLHttpRequest, which the library takes from the
 * browser: `ws` stands in for the first, and a small XMLHttpRequest over Node's own fetch for the second.
 *
 * It starts a conversation, waits for the welcome, then for each step posts the text and waits for the bot's answer
 * to it (a bot message after the echo that is not "Checking your tenant…"); then it stops, opens a second client on
 * the same conversation with the token, conversationId and watermark of the first (a reconnect from the watermark)
 * and posts "resume" there. It prints one JSON object: every activity each client received, with the ms since the
 * start at which it arrived, the ms each POST took, the watermark and the stream URL the first client used.
 */
"use strict";

const config = JSON.parse(process.argv[2]);
const path = require("path");
global.WebSocket = require(path.join(config.modules, "ws"));

class NodeXMLHttpRequest {
  constructor() {
    this.readyState = 0;
    this.status = 0;
    this.response = null;
    this.responseText = "";
    this.responseType = "";
    this.timeout = 0;
    this.withCredentials = false;
    this.upload = {};
    this.headers = {};
  }
  open(method, url) {
    this.method = method;
    this.url = url;
    this.readyState = 1;
  }
  setRequestHeader(name, value) {
    this.headers[name] = value;
  }
  getAllResponseHeaders() {
    return "";
  }
  abort() {
    if (this.controller) this.controller.abort();
  }
  send(body) {
    this.controller = new AbortController();
    const timer = this.timeout ? setTimeout(() => { this.timedOut = true; this.controller.abort(); }, this.timeout) : null;
    fetch(this.url, { method: this.method, headers: this.headers, body: body, signal: this.controller.signal })
      .then(async (resp) => {
        const text = await resp.text();
        clearTimeout(timer);
        this.status = resp.status;
        this.responseText = text;
        try {
          this.response = this.responseType === "json" ? (text ? JSON.parse(text) : null) : text;
        } catch (e) {
          this.response = null;
        }
        this.readyState = 4;
        if (this.onreadystatechange) this.onreadystatechange({});
      })
      .catch((error) => {
        clearTimeout(timer);
        this.readyState = 4;
        if (this.timedOut && this.ontimeout) this.ontimeout(error);
        else if (this.onerror) this.onerror(error);
      });
  }
}
global.XMLHttpRequest = NodeXMLHttpRequest;

const { DirectLine } = require(path.join(config.modules, "botframework-directlinejs"));
const CHECKING = /^(Checking your tenant|Sto controllando il tuo tenant)/;
const started = performance.now();
const now = () => Math.round(performance.now() - started);

function record(into) {
  return (a) =>
    into.push({
      at: now(),
      id: a.id,
      type: a.type,
      role: a.from && a.from.role,
      text: a.text || a.summary || "",
      clientActivityID: a.channelData && a.channelData.clientActivityID,
    });
}

function waitFor(predicate, what, ms = 20000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const timer = setInterval(() => {
      if (predicate()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error("timed out waiting for " + what));
      }
    }, 5);
  });
}

function post(client, text, clientActivityID) {
  const sent = performance.now();
  const activity = { type: "message", from: { id: config.userId }, text: text, locale: config.locale || "en-US",
                     channelData: { clientActivityID: clientActivityID } };
  return new Promise((resolve, reject) => {
    client.postActivity(activity).subscribe(
      (id) => resolve({ id: id, ms: Math.round(performance.now() - sent) }),
      (error) => reject(new Error("postActivity failed: " + (error && error.status)))
    );
  });
}

async function ask(client, events, text, clientActivityID) {
  const posted = await post(client, text, clientActivityID);
  await waitFor(() => {
    const echo = events.findIndex((e) => e.clientActivityID === clientActivityID);
    return echo >= 0 && events.slice(echo + 1).some((e) => e.role === "bot" && e.type === "message" && !CHECKING.test(e.text));
  }, "the answer to " + JSON.stringify(text));
  return posted;
}

async function main() {
  const options = Object.assign({ token: config.token, domain: config.domain }, config.options || {});
  const first = new DirectLine(options);
  const events = [];
  const subscription = first.activity$.subscribe(record(events));
  await waitFor(() => events.some((e) => e.role === "bot" && e.type === "message"), "the welcome");
  const posts = [];
  for (let n = 0; n < config.steps.length; n++) {
    posts.push(await ask(first, events, config.steps[n], "c-" + n));
  }
  const watermark = first.watermark;
  const streamUrl = first.streamUrl || null;
  subscription.unsubscribe();
  first.end();

  const second = new DirectLine(Object.assign({}, options, {
    token: first.token, conversationId: first.conversationId, watermark: watermark,
  }));
  const resumed = [];
  const again = second.activity$.subscribe(record(resumed));
  posts.push(await ask(second, resumed, "resume", "c-resume"));
  again.unsubscribe();
  second.end();
  const result = { events: events, resumed: resumed, posts: posts, watermark: watermark, streamUrl: streamUrl,
                   webSocket: first.webSocket };
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(String(error && error.stack || error) + "\n");
    process.exit(1);
  }
);
