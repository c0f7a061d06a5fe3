// Block Kit to DOM, as Slack draws a message: header, section (text, fields, accessory), context, divider,
// actions (buttons), image (its alt text only: nothing is fetched), rich_text, and in a modal the input
// block (plain_text_input, single or multiline, and static_select) with its inline error. Unknown blocks
// and elements are named, not guessed at. Text goes through mrkdwn.js, which never parses HTML.

import { EMOJI, renderMrkdwn, renderPlain, safeUrl } from "./mrkdwn.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function renderText(object, ctx) {
  if (!object || typeof object !== "object") return document.createTextNode("");
  if (object.type === "mrkdwn") return renderMrkdwn(object.text, ctx);
  return renderPlain(object.text, object.emoji !== false);
}

function textBox(object, ctx, className) {
  const box = el("div", className);
  box.append(renderText(object, ctx));
  return box;
}

function unsupported(what) {
  return el("div", "bk-unsupported", `[${String(what).slice(0, 60)} is not drawn by the playground]`);
}

function button(element, blockId, ctx) {
  const node = el("button", "bk-button");
  node.type = "button";
  if (element.style === "primary" || element.style === "danger") node.classList.add(`bk-${element.style}`);
  node.append(renderPlain(element.text?.text ?? "", element.text?.emoji !== false));
  node.dataset.actionId = String(element.action_id ?? "");
  node.addEventListener("click", () => ctx.onAction?.(blockId, element, node));
  return node;
}

// A static_select's <select>: its placeholder as an empty first option, then its options, as text.
function selectOf(element, className) {
  const node = el("select", className);
  const none = el("option", "", String(element.placeholder?.text ?? "Select an option"));
  none.value = "";
  node.append(none);
  for (const option of element.options ?? []) {
    const choice = el("option");
    choice.append(renderPlain(option?.text?.text ?? "", option?.text?.emoji !== false));
    choice.value = String(option?.value ?? "");
    node.append(choice);
  }
  return node;
}

// A select in an actions block (the card's "Other stacks…"): picking an option is the action, as in Slack.
function select(element, blockId, ctx) {
  const node = selectOf(element, "bk-select");
  node.value = String(element.initial_option?.value ?? "");
  node.dataset.actionId = String(element.action_id ?? "");
  node.setAttribute("aria-label", String(element.placeholder?.text ?? "Select"));
  node.addEventListener("change", () => {
    if (node.value) ctx.onAction?.(blockId, element, node, node.value);
  });
  return node;
}

function element(item, blockId, ctx) {
  if (!item || typeof item !== "object") return unsupported("an element");
  if (item.type === "button") return button(item, blockId, ctx);
  if (item.type === "static_select") return select(item, blockId, ctx);
  if (item.type === "image") return el("span", "bk-image-alt", `🖼 ${item.alt_text ?? "image"}`);
  if (item.type === "mrkdwn" || item.type === "plain_text") {
    const span = el("span", "bk-context-text");
    span.append(renderText(item, ctx));
    return span;
  }
  return unsupported(`a ${item.type} element`);
}

let inputCount = 0;

const BLOCKS = {
  header(block, ctx) {
    return textBox(block.text, ctx, "bk-header");
  },
  section(block, ctx, blockId) {
    const node = el("div", "bk-section");
    const main = el("div", "bk-section-main");
    if (block.text) main.append(textBox(block.text, ctx, "bk-text"));
    if (Array.isArray(block.fields) && block.fields.length) {
      const fields = el("div", "bk-fields");
      for (const field of block.fields) fields.append(textBox(field, ctx, "bk-field"));
      main.append(fields);
    }
    node.append(main);
    if (block.accessory) {
      const accessory = el("div", "bk-accessory");
      accessory.append(element(block.accessory, blockId, ctx));
      node.append(accessory);
    }
    return node;
  },
  context(block, ctx, blockId) {
    const node = el("div", "bk-context");
    for (const item of block.elements ?? []) node.append(element(item, blockId, ctx));
    return node;
  },
  divider() {
    return el("hr", "bk-divider");
  },
  actions(block, ctx, blockId) {
    const node = el("div", "bk-actions");
    for (const item of block.elements ?? []) node.append(element(item, blockId, ctx));
    return node;
  },
  image(block) {
    const node = el("div", "bk-image");
    node.append(el("span", "bk-image-alt", `🖼 ${block.alt_text ?? "image"}`));
    if (block.title?.text) node.append(el("div", "bk-image-title", block.title.text));
    return node;
  },
  input(block, ctx, blockId) {
    const node = el("div", "bk-input");
    node.dataset.blockId = blockId;
    const label = el("label", "bk-input-label");
    label.append(renderPlain(block.label?.text ?? "", block.label?.emoji !== false));
    if (block.optional) label.append(el("span", "bk-optional", " (optional)"));
    node.append(label);
    const item = block.element ?? {};
    const id = `bk-input-${inputCount++}`;
    label.htmlFor = id;
    const kept = ctx.values?.[blockId];
    let field;
    if (item.type === "plain_text_input") {
      field = el(item.multiline ? "textarea" : "input", "bk-field-input");
      if (!item.multiline) field.type = "text";
      else field.rows = 4;
      if (Number.isInteger(item.max_length)) field.maxLength = item.max_length;
      if (item.placeholder?.text) field.placeholder = String(item.placeholder.text);
      field.value = kept ?? String(item.initial_value ?? "");
    } else if (item.type === "static_select") {
      field = selectOf(item, "bk-field-input");
      field.value = kept ?? String(item.initial_option?.value ?? "");
    } else {
      node.append(unsupported(`a ${item.type} element`));
      return node;
    }
    field.id = id;
    field.dataset.input = blockId;
    node.append(field);
    const error = ctx.errors?.[blockId];
    if (error) {
      field.setAttribute("aria-invalid", "true");
      node.append(el("div", "bk-input-error", String(error)));
    }
    if (block.hint?.text) node.append(textBox(block.hint, ctx, "bk-hint"));
    return node;
  },
  rich_text(block, ctx) {
    const node = el("div", "bk-rich");
    for (const part of block.elements ?? []) node.append(richPart(part, ctx));
    return node;
  },
};

function richPart(part, ctx) {
  switch (part?.type) {
    case "rich_text_section": {
      const node = el("div", "rt-section");
      for (const item of part.elements ?? []) node.append(richInline(item, ctx));
      return node;
    }
    case "rich_text_preformatted": {
      const node = el("pre", "mk-pre");
      for (const item of part.elements ?? []) node.append(String(item?.text ?? ""));
      return node;
    }
    case "rich_text_quote": {
      const node = el("blockquote", "mk-quote");
      for (const item of part.elements ?? []) node.append(richInline(item, ctx));
      return node;
    }
    case "rich_text_list": {
      const node = el(part.style === "ordered" ? "ol" : "ul", "rt-list");
      for (const item of part.elements ?? []) {
        const li = el("li");
        li.append(richPart(item, ctx));
        node.append(li);
      }
      return node;
    }
    default:
      return unsupported(part?.type ?? "a rich text part");
  }
}

function richInline(item, ctx) {
  const style = item?.style ?? {};
  let node;
  switch (item?.type) {
    case "text":
      node = style.code ? el("code", "mk-code", String(item.text ?? "")) : document.createTextNode(String(item.text ?? ""));
      break;
    case "link": {
      const href = safeUrl(String(item.url ?? ""));
      node = href ? el("a", "mk-link", String(item.text || item.url)) : document.createTextNode(String(item.text || item.url || ""));
      if (href) Object.assign(node, { href, target: "_blank", rel: "noopener noreferrer" });
      break;
    }
    case "emoji":
      node = document.createTextNode(EMOJI[item.name] ?? `:${item.name}:`);
      break;
    case "user":
      node = el("span", "mk-mention", `@${ctx.members?.[item.user_id]?.name ?? item.user_id}`);
      break;
    case "channel":
      node = el("span", "mk-mention", `#${item.channel_id}`);
      break;
    case "broadcast":
      node = el("span", "mk-mention mk-broadcast", `@${item.range}`);
      break;
    case "date":
      node = document.createTextNode(String(item.fallback ?? item.timestamp ?? ""));
      break;
    default:
      return unsupported(item?.type ?? "a rich text element");
  }
  for (const [flag, tag] of [["bold", "b"], ["italic", "i"], ["strike", "s"]]) {
    if (style[flag] && item.type !== "link") {
      const wrap = el(tag);
      wrap.append(node);
      node = wrap;
    }
  }
  return node;
}

// ctx: { members, onAction(blockId, element, node, selectedValue?), errors: {blockId: text}, values: {blockId: typed} }
export function renderBlocks(blocks, ctx = {}) {
  const root = el("div", "bk-blocks");
  (Array.isArray(blocks) ? blocks : []).forEach((block, index) => {
    const draw = block && Object.hasOwn(BLOCKS, block.type) ? BLOCKS[block.type] : null;
    const blockId = block?.block_id || `#${index}`;
    const node = draw ? draw(block, ctx, blockId) : unsupported(`a ${block?.type ?? "nameless"} block`);
    node.classList.add("bk-block");
    node.dataset.blockType = String(block?.type ?? "");
    root.append(node);
  });
  return root;
}
