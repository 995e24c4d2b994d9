/*
 * http(s) addresses in message text as links, built with DOM calls only: the text around
 * them stays text nodes and nothing else ever becomes markup. Only http: and https: make a
 * link (never javascript:, data: and the like). Punctuation that ends a sentence is left
 * out of the link, and so is a closing bracket that has no opening one inside the address.
 */

const ADDRESS = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = ".,;:!?'\"";

function trimTrailing(candidate) {
  let text = candidate;
  for (;;) {
    const last = text.slice(-1);
    if (TRAILING.includes(last)) {
      text = text.slice(0, -1);
    } else if (last === ")" && text.split("(").length < text.split(")").length) {
      text = text.slice(0, -1);
    } else {
      return text;
    }
  }
}

function safeHref(text) {
  let url;
  try {
    url = new URL(text);
  } catch (error) {
    return null;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) {
    return null;
  }
  return url.href;
}

/** The addresses in ``text``: [{ start, end, text, href }], in order. */
export function findLinks(text) {
  const found = [];
  for (const match of String(text).matchAll(ADDRESS)) {
    const candidate = trimTrailing(match[0]);
    const href = safeHref(candidate);
    if (href) {
      found.push({ start: match.index, end: match.index + candidate.length, text: candidate, href });
    }
  }
  return found;
}

/** ``text`` as a DocumentFragment of text nodes and <a> elements that open in a new tab. */
export function linkify(text, doc = document) {
  const source = String(text);
  const fragment = doc.createDocumentFragment();
  let done = 0;
  for (const link of findLinks(source)) {
    if (link.start > done) {
      fragment.append(doc.createTextNode(source.slice(done, link.start)));
    }
    const anchor = doc.createElement("a");
    anchor.href = link.href;
    anchor.rel = "noopener noreferrer";
    anchor.target = "_blank";
    anchor.textContent = link.text;
    fragment.append(anchor);
    done = link.end;
  }
  if (done < source.length) {
    fragment.append(doc.createTextNode(source.slice(done)));
  }
  return fragment;
}
