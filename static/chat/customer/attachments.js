/*
 * Files in the customer's chat: the picker (the camera on a phone, photos and PDFs from the
 * device), the tray of files chosen for the next message, their upload with a progress bar
 * and a cancel button, and the files shown in the message log.
 *
 * The server decides what a file is by its content; the page only keeps away what would
 * certainly be refused (too large, too many, a type the picker does not offer) so that a
 * phone does not upload it for nothing. A message with files goes through the outbox like
 * any other, with its client_id: a retried upload never makes a duplicate. Its files are
 * kept in memory only (a reload forgets an unsent photo).
 *
 * Files are never public: the page fetches each one with the chat's key in the
 * X-Chat-Session header and shows it from a blob: URL; nothing of it ever goes in a URL.
 */
import { fileSize, format } from "../lib/format.js";
import { upload } from "../lib/http.js";
import { S, $, app } from "./config.js";
import * as session from "./session.js";

const data = app ? app.dataset : {};
const maxBytes = parseInt(data.attachmentMaxBytes, 10) || 10 * 1024 * 1024;
const maxFiles = parseInt(data.attachmentMaxFiles, 10) || 5;
const uploadUrl = data.attachmentsUrl;
const SHOWN_TYPES = ["image/jpeg", "image/png", "image/webp"]; // previews the browser can draw

let chosen = [];
const uploads = new Map(); // client_id -> AbortController
const blobUrls = new Map(); // file URL -> Promise of a blob: URL (or null)

/* --- the picker and the tray ------------------------------------------------------ */

function refuse(text) {
  const alert = $("attach-error");
  alert.textContent = text;
  alert.hidden = !text;
}

function accepted(file) {
  const name = file.name.toLowerCase();
  const extensions = (data.attachmentAccept || "").split(",").filter((item) => item.startsWith("."));
  const types = (data.attachmentAccept || "").split(",").filter((item) => item.includes("/"));
  return types.includes(file.type) || extensions.some((extension) => name.endsWith(extension));
}

function add(files) {
  refuse("");
  for (const file of files) {
    if (chosen.length >= maxFiles) {
      refuse(format(S.too_many_files, { max: maxFiles }));
      break;
    }
    if (!accepted(file)) {
      refuse(format(S.file_type, { name: file.name, formats: S.accepted_formats }));
      continue;
    }
    if (file.size > maxBytes) {
      refuse(format(S.file_too_large, { name: file.name, max: fileSize(maxBytes) }));
      continue;
    }
    chosen.push(file);
  }
  renderTray();
}

function previewOf(file) {
  const figure = document.createElement("span");
  figure.className = "file-chip__preview";
  if (SHOWN_TYPES.includes(file.type)) {
    const image = document.createElement("img");
    image.alt = "";
    image.src = URL.createObjectURL(file);
    image.addEventListener("load", () => URL.revokeObjectURL(image.src), { once: true });
    figure.appendChild(image);
  } else {
    figure.textContent = file.type === "application/pdf" ? "PDF" : "📷";
    figure.setAttribute("aria-hidden", "true");
  }
  return figure;
}

function renderTray() {
  const tray = $("attach-tray");
  tray.textContent = "";
  chosen.forEach((file, index) => {
    const chip = document.createElement("li");
    chip.className = "file-chip";
    const label = document.createElement("span");
    label.className = "file-chip__name";
    label.textContent = file.name + " · " + fileSize(file.size);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "file-chip__remove";
    remove.setAttribute("aria-label", format(S.remove_file, { name: file.name }));
    remove.textContent = "×";
    remove.addEventListener("click", () => {
      chosen.splice(index, 1);
      renderTray();
      $("message-input").focus();
    });
    chip.append(previewOf(file), label, remove);
    tray.appendChild(chip);
  });
  tray.hidden = chosen.length === 0;
}

export function init() {
  const camera = $("attach-camera");
  const picker = $("attach-file");
  $("attach-camera-button").addEventListener("click", () => camera.click());
  $("attach-file-button").addEventListener("click", () => picker.click());
  for (const input of [camera, picker]) {
    input.addEventListener("change", () => {
      add(Array.from(input.files || []));
      input.value = "";
    });
  }
}

export function hasFiles() {
  return chosen.length > 0;
}

/** The chosen files, for the message being sent; the tray empties. */
export function take() {
  const files = chosen;
  chosen = [];
  renderTray();
  refuse("");
  return files;
}

export function clear() {
  take();
}

/* --- sending ---------------------------------------------------------------------- */

/** Upload an outbox item ({client_id, content, files}); answers like lib/http.js request(). */
export function send(item, onProgress) {
  const form = new FormData();
  item.files.forEach((file) => form.append("files", file, file.name));
  form.append("content", item.content || "");
  form.append("client_id", item.client_id);
  const controller = new AbortController();
  uploads.set(item.client_id, controller);
  return upload(uploadUrl, form, {
    headers: { "X-Chat-Session": session.currentKey() },
    onProgress,
    signal: controller.signal,
  }).finally(() => uploads.delete(item.client_id));
}

/** Stop an upload in flight. */
export function cancel(clientId) {
  const controller = uploads.get(clientId);
  if (controller) {
    controller.abort();
  }
}

/* --- files in the message log -------------------------------------------------------- */

/** A file of this chat as a blob: URL, fetched once with the chat's key (null when refused). */
function blobUrl(url) {
  if (!blobUrls.has(url)) {
    const key = session.currentKey();
    const loading = fetch(url, { headers: { "X-Chat-Session": key }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.blob() : null))
      .then((blob) => (blob ? URL.createObjectURL(blob) : null))
      .catch(() => null);
    blobUrls.set(url, loading);
    loading.then((found) => {
      if (!found) {
        blobUrls.delete(url); // tried again next time
      }
    });
  }
  return blobUrls.get(url);
}

function saveAs(href, name) {
  const link = document.createElement("a");
  link.href = href;
  link.download = name;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

async function openImage(item) {
  const dialog = $("file-dialog");
  const image = $("file-dialog-image");
  const download = $("file-dialog-download");
  image.removeAttribute("src");
  image.alt = item.name;
  $("file-dialog-title").textContent = item.name;
  download.hidden = true;
  if (!dialog.open) {
    dialog.showModal();
  }
  const href = await blobUrl(item.url);
  if (href) {
    image.src = href;
    download.href = href;
    download.download = item.name;
    download.hidden = false;
  }
}

async function openDocument(item, button) {
  button.setAttribute("aria-busy", "true");
  const href = await blobUrl(item.url);
  button.removeAttribute("aria-busy");
  if (href) {
    saveAs(href, item.name);
  }
}

function describe(item) {
  return format(item.kind === "image" ? S.photo_label : S.document_label, {
    name: item.name,
    size: fileSize(item.size),
  });
}

/** The server's files of a message, into ``container``. */
export function renderFiles(container, attachments) {
  container.textContent = "";
  attachments.forEach((item) => {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "file file--" + item.kind;
    if (!item.url) {
      element.disabled = true;
      element.textContent = S.file_removed;
      container.appendChild(element);
      return;
    }
    element.setAttribute("aria-label", describe(item));
    if (item.thumbnail_url) {
      const image = document.createElement("img");
      image.className = "file__thumbnail";
      image.alt = "";
      if (item.width && item.height) {
        image.width = Math.min(220, item.width);
        image.height = Math.round((image.width * item.height) / item.width);
      }
      blobUrl(item.thumbnail_url).then((href) => {
        if (href) {
          image.src = href;
        }
      });
      element.appendChild(image);
      element.addEventListener("click", () => openImage(item));
    } else {
      const icon = document.createElement("span");
      icon.className = "file__icon";
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = "PDF";
      const name = document.createElement("span");
      name.className = "file__name";
      name.textContent = item.name + " · " + fileSize(item.size);
      element.append(icon, name);
      element.addEventListener("click", () => openDocument(item, element));
    }
    container.appendChild(element);
  });
}

/** Files of a message not yet sent, from the device, into ``container``. */
export function renderLocalFiles(container, files) {
  container.textContent = "";
  files.forEach((file) => {
    const element = document.createElement("span");
    element.className = "file file--local";
    element.append(previewOf(file));
    const name = document.createElement("span");
    name.className = "file__name";
    name.textContent = file.name + " · " + fileSize(file.size);
    element.appendChild(name);
    container.appendChild(element);
  });
}

/** File names for the transcript download. */
export function transcriptLines(entry) {
  const items = entry.attachments || (entry.files || []).map((file) => ({ name: file.name, size: file.size }));
  return items.map((item) => format(S.transcript_file, { name: item.name || S.file_removed, size: fileSize(item.size) }));
}

export function forget() {
  blobUrls.forEach((loading) => loading.then((href) => href && URL.revokeObjectURL(href)));
  blobUrls.clear();
}

export function initDialog() {
  const dialog = $("file-dialog");
  $("file-dialog-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) {
      dialog.close();
    }
  });
}
