// The playground page: a Slack-like channel and thread over the emulator's WebSocket. Every message is
// drawn from what the bot actually sent (its Block Kit JSON) by blocks.js; nothing here parses HTML.

import { renderBlocks } from "./blocks.js";
import { renderMrkdwn, renderPlain } from "./mrkdwn.js";

// The shortcuts the app's manifest declares (bot/playground/payloads.py has the same).
const MESSAGE_SHORTCUTS = { diagnose_message: "Diagnose with jwtcheck" };
const GLOBAL_SHORTCUTS = { check_privately: "Check a token privately" };

const state = {
  channel: { id: "", name: "incident" }, // the channel shown
  channels: [],
  home: null, // the published Home view
  homeOpen: false,
  modals: [], // the open modal's stack, top last (each with its inline errors)
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
    state.channels = event.workspace.channels;
    if (!state.channel.id || !state.channels.some((c) => c.id === state.channel.id)) state.channel = event.workspace.channel;
    state.me = event.workspace.me;
    state.members = event.workspace.members;
    state.messages = new Map(event.messages.map((message) => [keyOf(message), message]));
    applyViews(event);
    drawChannels();
  } else if (event.type === "views") {
    applyViews(event);
  } else if (event.type === "upsert") {
    state.messages.set(keyOf(event.message), event.message);
  } else if (event.type === "delete") {
    state.messages.delete(`${event.channel}:${event.ts}`);
  }
  scheduleRender();
}

function applyViews(event) {
  state.modals = event.modals ?? [];
  state.home = event.home ?? null;
  drawModal();
  drawHome();
}

// --- channels and the Home tab ----------------------------------------------------------------------

function drawChannels() {
  const list = $("side-channels");
  list.replaceChildren(...state.channels.map((channel) => {
    const item = el("button", "side-item", `# ${channel.name}`);
    item.type = "button";
    item.dataset.channel = channel.id;
    if (!state.homeOpen && channel.id === state.channel.id) {
      item.classList.add("active");
      item.setAttribute("aria-current", "page");
    }
    item.addEventListener("click", () => showChannel(channel));
    return item;
  }));
  $("side-app").classList.toggle("active", state.homeOpen);
  for (const id of ["channel-name", "intro-channel", "thread-channel"]) $(id).textContent = state.channel.name;
  const box = $("channel-composer").querySelector("textarea");
  box.placeholder = `Message #${state.channel.name}`;
  box.setAttribute("aria-label", box.placeholder);
}

function showChannel(channel) {
  if (channel.id !== state.channel.id) closeThread();
  state.channel = channel;
  state.homeOpen = false;
  $("home").hidden = true;
  $("channel").hidden = false;
  drawChannels();
  scheduleRender();
}

async function showHome() {
  state.homeOpen = true;
  closeThread();
  $("channel").hidden = true;
  $("home").hidden = false;
  drawChannels();
  drawHome();
  const answer = await post("/playground/home", {}); // Slack sends app_home_opened each time
  if (!answer.ok) showBanner(`The Home tab could not be opened: ${answer.error}`);
}

function drawHome() {
  const body = $("home-body");
  if (!state.home) {
    body.replaceChildren(el("p", "home-empty", state.homeOpen ? "Opening jwtcheck's Home…" : ""));
    return;
  }
  const signature = JSON.stringify(state.home);
  if (body.dataset.signature === signature) return;
  body.dataset.signature = signature;
  const view = state.home;
  body.replaceChildren(renderBlocks(view.blocks, {
    members: state.members,
    onAction: (blockId, element, button) => viewClick(view, blockId, element, button),
  }));
}

async function viewClick(view, blockId, element, button) {
  button.classList.add("bk-pending");
  const inModal = $("modal").dataset.viewId === view.id;
  const answer = await post("/playground/view/click", {
    view_id: view.id, block_id: blockId, action_id: String(element.action_id ?? ""),
    values: inModal ? readInputs(view) : {},
  });
  button.classList.remove("bk-pending");
  if (!answer.ok) showBanner(`That click was not delivered: ${answer.error}`);
}

// --- the modal --------------------------------------------------------------------------------------

const typed = new Map(); // view id -> {block id: what was typed}, kept across redraws of the same view

function readInputs(view) {
  const values = {};
  for (const field of $("modal-body").querySelectorAll("[data-input]")) values[field.dataset.input] = field.value;
  if (view) typed.set(view.id, values);
  return values;
}

function drawModal() {
  const modal = $("modal");
  const view = state.modals.at(-1);
  const shown = modal.dataset.viewId ? state.modals.find((v) => v.id === modal.dataset.viewId) : null;
  if (shown) readInputs(shown); // keep what was typed when the same view is redrawn (errors, update)
  for (const id of [...typed.keys()]) if (!state.modals.some((v) => v.id === id)) typed.delete(id);
  if (!view) {
    modal.hidden = true;
    modal.dataset.viewId = "";
    modal.dataset.signature = "";
    return;
  }
  const signature = JSON.stringify(view);
  if (!modal.hidden && modal.dataset.signature === signature) return;
  const fresh = modal.hidden || modal.dataset.viewId !== view.id;
  modal.dataset.viewId = view.id;
  modal.dataset.signature = signature;
  $("modal-title").replaceChildren(renderPlain(view.title?.text ?? "", view.title?.emoji !== false));
  const general = view.errors?.[""];
  $("modal-error").textContent = general ?? "";
  $("modal-error").hidden = !general;
  $("modal-body").replaceChildren(renderBlocks(view.blocks, {
    members: state.members,
    errors: view.errors ?? {},
    values: typed.get(view.id) ?? {},
    onAction: (blockId, element, button) => viewClick(view, blockId, element, button),
  }));
  $("modal-close").replaceChildren(renderPlain(view.close?.text ?? "Close", view.close?.emoji !== false));
  $("modal-submit").hidden = !view.submit;
  if (view.submit) $("modal-submit").replaceChildren(renderPlain(view.submit.text ?? "Submit", view.submit.emoji !== false));
  modal.hidden = false;
  if (fresh) setTimeout(() => $("modal-body").querySelector("[data-input]")?.focus(), 0);
}

async function submitModal() {
  const view = state.modals.at(-1);
  if (!view) return;
  const button = $("modal-submit");
  button.disabled = true;
  const answer = await post("/playground/view/submit", { view_id: view.id, values: readInputs(view) });
  button.disabled = false;
  if (!answer.ok) showBanner(`The form was not sent: ${answer.error}`);
}

async function closeModal() {
  const view = state.modals.at(-1);
  if (!view) return;
  const answer = await post("/playground/view/close", { view_id: view.id });
  if (!answer.ok) showBanner(`The form could not be closed: ${answer.error}`);
}

// --- menus (a message's ⋯, the composer's ⚡) ----------------------------------------------------------

function popupMenu(anchor, title, items) {
  const menu = el("div", "popup-menu");
  menu.setAttribute("role", "menu");
  if (title) menu.append(el("div", "samples-title", title));
  for (const [label, action] of items) {
    const item = el("button", "samples-item", label);
    item.type = "button";
    item.setAttribute("role", "menuitem");
    item.addEventListener("click", () => {
      menu.remove();
      action();
    });
    menu.append(item);
  }
  anchor.after(menu);
  const dismiss = (event) => {
    if (event.type === "keydown" ? event.key === "Escape" : !menu.contains(event.target) && event.target !== anchor) {
      menu.remove();
      document.removeEventListener("click", dismiss, true);
      document.removeEventListener("keydown", dismiss);
    }
  };
  document.addEventListener("click", dismiss, true);
  document.addEventListener("keydown", dismiss);
  menu.querySelector("button")?.focus();
  return menu;
}

async function shortcut(body) {
  const answer = await post("/playground/shortcut", body);
  if (!answer.ok) showBanner(`That shortcut was not delivered: ${answer.error}`);
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
  const all = [...state.messages.values()]
    .filter((m) => m.channel === state.channel.id)
    .sort((a, b) => compareTs(a.ts, b.ts));
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
  if (!message.ephemeral) {
    const more = el("button", "tool-button", "⋯");
    more.type = "button";
    more.title = "More actions";
    more.setAttribute("aria-label", "More actions");
    more.setAttribute("aria-haspopup", "menu");
    more.addEventListener("click", () => {
      if (tools.querySelector(".popup-menu")) return;
      popupMenu(more, "jwtcheck", Object.entries(MESSAGE_SHORTCUTS).map(([id, name]) => [
        name, () => shortcut({ callback_id: id, channel: message.channel, ts: message.ts }),
      ]));
    });
    tools.append(more);
  }
  meta.append(tools);
  body.append(meta);

  const content = el("div", "msg-content");
  if (Array.isArray(message.blocks) && message.blocks.length) {
    content.append(renderBlocks(message.blocks, {
      members: state.members,
      onAction: (blockId, element, button, selected) => click(message, blockId, element, button, selected),
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

async function click(message, blockId, element, button, selected) {
  button.classList.add("bk-pending");
  const body = {
    channel: message.channel, ts: message.ts, block_id: blockId, action_id: String(element.action_id ?? ""),
  };
  if (selected !== undefined) body.selected = String(selected);
  const answer = await post("/playground/click", body);
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
  const bolt = el("button", "samples-button", "⚡");
  bolt.type = "button";
  bolt.title = "Shortcuts";
  bolt.setAttribute("aria-label", "Shortcuts");
  bolt.setAttribute("aria-haspopup", "menu");
  bolt.addEventListener("click", () => {
    if (box.querySelector(".popup-menu")) return;
    const menu = popupMenu(bolt, "jwtcheck", Object.entries(GLOBAL_SHORTCUTS).map(([id, name]) => [
      name, () => shortcut({ callback_id: id }),
    ]));
    menu.classList.add("popup-up");
  });
  const hint = el("span", "composer-hint", HINT);
  const send = el("button", "send-button", "Send");
  send.type = "button";
  const error = el("div", "composer-error");
  const menu = el("div", "samples-menu");
  menu.hidden = true;
  menu.setAttribute("role", "menu");
  bar.append(samplesButton, bolt, hint, send);
  box.append(menu, input, bar, error);
  slot.replaceChildren(box);

  async function submit() {
    const text = input.value;
    if (!text.trim()) return;
    error.textContent = "";
    const answer = await post("/playground/send", { text, thread_ts: threadTs(), channel: state.channel.id || null });
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
$("side-app").addEventListener("click", showHome);
$("modal-submit").addEventListener("click", submitModal);
$("modal-close").addEventListener("click", closeModal);
$("modal-x").addEventListener("click", closeModal);
$("modal").addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeModal();
  if (event.key === "Enter" && (event.metaKey || event.ctrlKey) && !$("modal-submit").hidden) submitModal();
});
$("json-all").addEventListener("change", (event) => {
  state.jsonAll = event.target.checked;
  scheduleRender();
});
connect();
