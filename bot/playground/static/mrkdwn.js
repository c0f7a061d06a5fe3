// Slack mrkdwn and plain_text to DOM nodes. Payload text only ever becomes text nodes or the textContent
// of elements made here: no HTML parsing anywhere, so a claim such as <img src=x onerror=alert(1)> stays text.
//
// Covered: *bold* _italic_ ~strike~ `code` ```code blocks```, > quotes, <http(s)://url|label> links,
// <@U…> <#C…|name> <!here>-style specials, the &amp; &lt; &gt; entities, and common :emoji: shortcodes.

const ENTITY = /&(amp|lt|gt);/g;
const ENTITIES = { amp: "&", lt: "<", gt: ">" };

// The shortcodes a card or a person is likely to use; anything else stays as typed, as text.
export const EMOJI = {
  white_check_mark: "✅", heavy_check_mark: "✔️", no_entry: "⛔", no_entry_sign: "🚫", warning: "⚠️",
  x: "❌", bulb: "💡", wrench: "🔧", hammer_and_wrench: "🛠️", lock: "🔒", unlock: "🔓", key: "🔑",
  mag: "🔍", clock1: "🕐", hourglass: "⌛", stopwatch: "⏱️", rotating_light: "🚨", fire: "🔥",
  information_source: "ℹ️", question: "❓", exclamation: "❗", tada: "🎉", eyes: "👀", thinking_face: "🤔",
  "+1": "👍", thumbsup: "👍", "-1": "👎", thumbsdown: "👎", pray: "🙏", wave: "👋", memo: "📝",
  link: "🔗", shield: "🛡️", robot_face: "🤖", calendar: "📅", arrow_right: "➡️", point_right: "👉",
  red_circle: "🔴", large_green_circle: "🟢", large_yellow_circle: "🟡", spiral_note_pad: "🗒️",
};
const SHORTCODE = /:([a-z0-9_+'-]{1,40}):/g;

// Inline tokens: `code`, <special>, or a *bold* / _italic_ / ~strike~ span whose markers sit at word edges.
const INLINE = /`([^`\n]+)`|<([^<>\n]{1,2000})>|(?<![\p{L}\p{N}*_~`])([*_~])(?=[^\s*_~])([^\n]*?[^\s])\3(?![\p{L}\p{N}])/gu;
const FENCE = /```([\s\S]*?)```/g;
const MARK_TAG = { "*": "b", _: "i", "~": "s" };

export function decodeEntities(text) {
  return String(text).replace(ENTITY, (_, name) => ENTITIES[name]);
}

export function withEmoji(text) {
  return String(text).replace(SHORTCODE, (whole, name) => EMOJI[name] ?? whole);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// plain_text: entities decoded (Slack shows "&amp;" as "&"), shortcodes when emoji is on; nothing else.
export function renderPlain(text, emoji = true) {
  const decoded = decodeEntities(text ?? "");
  return document.createTextNode(emoji ? withEmoji(decoded) : decoded);
}

export function renderMrkdwn(text, ctx = {}) {
  const out = document.createDocumentFragment();
  const source = String(text ?? "");
  let last = 0;
  // A code block is a block of its own: the line breaks that fence it belong to it, not to the text.
  for (const match of source.matchAll(FENCE)) {
    out.append(renderLines(source.slice(last, match.index).replace(/\n$/, ""), ctx));
    out.append(el("pre", "mk-pre", decodeEntities(match[1].replace(/^\n/, "").replace(/\n$/, ""))));
    last = match.index + match[0].length;
    if (source[last] === "\n") last += 1;
  }
  out.append(renderLines(source.slice(last), ctx));
  return out;
}

function renderLines(text, ctx) {
  const out = document.createDocumentFragment();
  if (!text) return out;
  const lines = text.split("\n");
  let quote = null;
  lines.forEach((line, index) => {
    // Slack quotes a line that starts with ">", raw or as &gt; (how a typed quote arrives); styling only.
    const marker = line.startsWith(">") ? 1 : line.startsWith("&gt;") ? 4 : 0;
    if (marker) {
      if (!quote) {
        quote = el("blockquote", "mk-quote");
        out.append(quote);
      } else {
        quote.append("\n");
      }
      quote.append(renderInline(line.slice(marker).replace(/^ /, ""), ctx));
      return;
    }
    quote = null;
    out.append(renderInline(line, ctx));
    if (index < lines.length - 1 && !/^(>|&gt;)/.test(lines[index + 1])) out.append("\n");
  });
  return out;
}

export function renderInline(text, ctx = {}) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    out.append(textNode(text.slice(last, match.index)));
    if (match[1] !== undefined) {
      out.append(el("code", "mk-code", decodeEntities(match[1])));
    } else if (match[2] !== undefined) {
      out.append(renderSpecial(match[2], ctx));
    } else {
      const node = el(MARK_TAG[match[3]]);
      node.append(renderInline(match[4], ctx));
      out.append(node);
    }
    last = match.index + match[0].length;
  }
  out.append(textNode(text.slice(last)));
  return out;
}

function textNode(raw) {
  return document.createTextNode(withEmoji(decodeEntities(raw)));
}

// What Slack puts between raw < and >: links, mentions, specials. Anything else is shown as it stands.
function renderSpecial(inner, ctx) {
  const bar = inner.indexOf("|");
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? "" : decodeEntities(inner.slice(bar + 1));
  const members = ctx.members ?? {};
  if (/^@[UWB][A-Z0-9]+$/.test(target)) {
    const name = members[target.slice(1)]?.name ?? label ?? target.slice(1);
    return el("span", "mk-mention", `@${name || target.slice(1)}`);
  }
  if (/^#C[A-Z0-9]+$/.test(target)) return el("span", "mk-mention", `#${label || target.slice(1)}`);
  if (/^!(here|channel|everyone)$/.test(target)) return el("span", "mk-mention mk-broadcast", `@${target.slice(1)}`);
  if (/^!(subteam\^|date\^)/.test(target) && label) return el("span", "mk-mention", label);
  const href = safeUrl(decodeEntities(target));
  if (href) {
    const link = el("a", "mk-link", label || decodeEntities(target));
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    return link;
  }
  return document.createTextNode(`<${decodeEntities(inner)}>`);
}

// Only absolute http(s) URLs become links; javascript:, data:, relative and malformed ones stay text.
export function safeUrl(candidate) {
  if (!/^https?:\/\//i.test(candidate)) return null;
  try {
    const url = new URL(candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}
