// The playground page: a Slack-like channel and thread over the emulator's WebSocket. Every message is
// drawn from what the bot actually sent (its Block Kit JSON) by blocks.js; nothing here parses HTML.

import { renderBlocks } from "./blocks.js";
import { renderMrkdwn } from "./mrkdwn.js";

const state = {
  channel: { id: "", name: "incident" },
  me: "",
  members: {},
  messages: new Map(), // "channel:ts" -> message view
  thread: null, // ts of the open thread's parent
  jsonAll: false,
  jsonOpen: new Set(),
  connected: false,
};

const $ = (id) => document.getElementById(id);
const keyOf = (message) => `${message.channel}:${message.ts}`;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function compareTs(a, b) {
  const [as, am] = a.split(".").map(Number);
  const [bs, bm] = b.split(".").map(Number);
  return as - bs || am - bm;
}

function clock(ts) {
  const date = new Date(Number(ts.split(".")[0]) * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// --- talking to the playground ----------------------------------------------------------------------

async function post(path, body) {
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
    return response.ok ? answer : { ok: false, error: answer.error ?? `HTTP ${response.status}` };
  } catch {
    return { ok: false, error: "the playground is not answering" };
  }
}

let retry = 500;
function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/playground/ws`);
  socket.addEventListener("open", () => {
    retry = 500;
    setConnected(true);
  });
  socket.addEventListener("message", (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    apply(data);
  });
  socket.addEventListener("close", () => {
    setConnected(false);
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 5000);
  });
}

function setConnected(connected) {
  state.connected = connected;
  $("presence").classList.toggle("online", connected);
  $("presence").title = connected ? "online" : "offline";
  showBanner(connected ? "" : "Reconnecting to the playground…");
}

function showBanner(text) {
  const banner = $("banner");
  banner.textContent = text;
  banner.hidden = !text;
}

function apply(event) {
  if (event.type === "snapshot") {
    state.channel = event.workspace.channel;
    state.me = event.workspace.me;
    state.members = event.workspace.members;
    state.messages = new Map(event.messages.map((message) => [keyOf(message), message]));
    $("channel-name").textContent = state.channel.name;
    $("side-channel").textContent = state.channel.name;
  } else if (event.type === "upsert") {
    state.messages.set(keyOf(event.message), event.message);
  } else if (event.type === "delete") {
    state.messages.delete(`${event.channel}:${event.ts}`);
  }
  scheduleRender();
}

// --- drawing ----------------------------------------------------------------------------------------

let renderPending = false;
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  setTimeout(() => {
    renderPending = false;
    render();
  }, 0);
}

function render() {
  const all = [...state.messages.values()].sort((a, b) => compareTs(a.ts, b.ts));
  syncList($("channel-messages"), all.filter((m) => !m.thread_ts || m.thread_ts === m.ts), { inThread: false });
  const parent = state.thread ? state.messages.get(`${state.channel.id}:${state.thread}`) : null;
  if (state.thread && !parent) closeThread();
  $("thread").hidden = !parent;
  if (parent) {
    const replies = all.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts);
    syncList($("thread-parent"), [parent], { inThread: true });
    const count = replies.filter((m) => !m.ephemeral).length;
    $("thread-count").textContent = count === 1 ? "1 reply" : `${count} replies`;
    syncList($("thread-messages"), replies, { inThread: true });
  }
}

function jsonShown(message) {
  return state.jsonAll || state.jsonOpen.has(keyOf(message));
}

function syncList(container, messages, options) {
  const scroller = container.closest(".scroller");
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
  const existing = new Map([...container.children].map((node) => [node.dataset.key, node]));
  const nodes = messages.map((message) => {
    const signature = JSON.stringify([message, jsonShown(message), options.inThread]);
    const old = existing.get(keyOf(message));
    if (old && old.dataset.signature === signature) return old;
    const node = messageNode(message, options);
    node.dataset.signature = signature;
    return node;
  });
  const changed = nodes.length !== container.children.length || nodes.some((node, i) => container.children[i] !== node);
  if (changed) container.replaceChildren(...nodes);
  if (atBottom) scroller.scrollTop = scroller.scrollHeight;
}

function messageNode(message, { inThread }) {
  const author = message.author;
  const node = el("article", "msg");
  node.dataset.key = keyOf(message);
  node.dataset.ts = message.ts;
  node.dataset.author = author.bot ? "bot" : author.id === state.me ? "me" : "other";
  if (message.ephemeral) node.classList.add("msg-ephemeral");

  const kind = author.bot ? "avatar-bot" : author.id === "USLACKBOT" ? "avatar-slackbot" : "avatar-person";
  node.append(el("div", `avatar ${kind}`, (author.name || "?").slice(0, 1).toUpperCase()));

  const body = el("div", "msg-body");
  const meta = el("div", "msg-meta");
  meta.append(el("span", "msg-author", author.name));
  if (author.bot) meta.append(el("span", "app-badge", "APP"));
  meta.append(el("span", "msg-time", clock(message.ts)));
  const tools = el("span", "msg-tools");
  const jsonButton = el("button", "tool-button", "{ } JSON");
  jsonButton.type = "button";
  jsonButton.title = "Show this message's Block Kit JSON";
  jsonButton.setAttribute("aria-pressed", String(jsonShown(message)));
  jsonButton.addEventListener("click", () => {
    const key = keyOf(message);
    if (state.jsonOpen.has(key)) state.jsonOpen.delete(key);
    else state.jsonOpen.add(key);
    scheduleRender();
  });
  tools.append(jsonButton);
  if (!inThread && !message.ephemeral) {
    const reply = el("button", "tool-button", "Reply in thread");
    reply.type = "button";
    reply.addEventListener("click", () => openThread(message.ts));
    tools.append(reply);
  }
  meta.append(tools);
  body.append(meta);

  const content = el("div", "msg-content");
  if (Array.isArray(message.blocks) && message.blocks.length) {
    content.append(renderBlocks(message.blocks, {
      members: state.members,
      onAction: (blockId, element, button) => click(message, blockId, element, button),
    }));
  } else {
    const text = el("div", "mk-text");
    text.append(renderMrkdwn(message.text, { members: state.members }));
    content.append(text);
  }
  body.append(content);

  if (message.ephemeral) body.append(el("div", "ephemeral-note", "👁 Only visible to you"));
  if (!inThread && message.reply_count > 0) {
    const replies = el("button", "replies", message.reply_count === 1 ? "1 reply" : `${message.reply_count} replies`);
    replies.type = "button";
    replies.addEventListener("click", () => openThread(message.ts));
    body.append(replies);
  }
  if (jsonShown(message)) {
    const raw = message.blocks ? { text: message.text, blocks: message.blocks } : { text: message.text };
    body.append(el("pre", "json", JSON.stringify(raw, null, 2)));
  }
  node.append(body);
  return node;
}

async function click(message, blockId, element, button) {
  button.classList.add("bk-pending");
  const answer = await post("/playground/click", {
    channel: message.channel, ts: message.ts, block_id: blockId, action_id: String(element.action_id ?? ""),
  });
  button.classList.remove("bk-pending");
  if (!answer.ok) showBanner(`That click was not delivered: ${answer.error}`);
}

function openThread(ts) {
  state.thread = ts;
  $("thread").hidden = false;
  scheduleRender();
  setTimeout(() => $("thread-composer").querySelector("textarea")?.focus(), 0);
}

function closeThread() {
  state.thread = null;
  $("thread").hidden = true;
}

// --- composing --------------------------------------------------------------------------------------

const HINT = "Enter sends · Shift+Enter adds a line";
const COMMAND_HINT = "/jwtcheck <token, header, curl line or error> [aud=… iss=… alg=… require=… leeway=…] [private]";

function composer(slot, placeholder, threadTs) {
  const box = el("div", "composer");
  const input = el("textarea", "composer-input");
  input.placeholder = placeholder;
  input.rows = 2;
  input.setAttribute("aria-label", placeholder);
  const bar = el("div", "composer-bar");
  const samplesButton = el("button", "samples-button", "Samples ▾");
  samplesButton.type = "button";
  samplesButton.setAttribute("aria-haspopup", "menu");
  const hint = el("span", "composer-hint", HINT);
  const send = el("button", "send-button", "Send");
  send.type = "button";
  const error = el("div", "composer-error");
  const menu = el("div", "samples-menu");
  menu.hidden = true;
  menu.setAttribute("role", "menu");
  bar.append(samplesButton, hint, send);
  box.append(menu, input, bar, error);
  slot.replaceChildren(box);

  async function submit() {
    const text = input.value;
    if (!text.trim()) return;
    error.textContent = "";
    const answer = await post("/playground/send", { text, thread_ts: threadTs() });
    if (answer.ok) {
      input.value = "";
      hint.textContent = HINT;
    } else {
      error.textContent = answer.error;
    }
  }

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => {
    hint.textContent = input.value.startsWith("/") ? COMMAND_HINT : HINT;
  });
  send.addEventListener("click", submit);

  samplesButton.addEventListener("click", async () => {
    if (!menu.hidden) {
      menu.hidden = true;
      return;
    }
    const response = await fetch("/playground/samples").catch(() => null);
    const data = response && response.ok ? await response.json() : { samples: [] };
    menu.replaceChildren(el("div", "samples-title", "Insert a sample (minted just now)"));
    for (const sample of data.samples) {
      const item = el("button", "samples-item", sample.title);
      item.type = "button";
      item.setAttribute("role", "menuitem");
      item.addEventListener("click", () => {
        input.value = sample.text;
        menu.hidden = true;
        hint.textContent = HINT;
        input.focus();
      });
      menu.append(item);
    }
    menu.hidden = false;
  });
  document.addEventListener("click", (event) => {
    if (!box.contains(event.target)) menu.hidden = true;
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") menu.hidden = true;
  });
}

// --- start ------------------------------------------------------------------------------------------

composer($("channel-composer"), "Message #incident", () => null);
composer($("thread-composer"), "Reply…", () => state.thread);
$("thread-close").addEventListener("click", () => {
  closeThread();
  scheduleRender();
});
$("json-all").addEventListener("change", (event) => {
  state.jsonAll = event.target.checked;
  scheduleRender();
});
connect();
