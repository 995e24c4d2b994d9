/* Files on the conversation page: thumbnails in the transcript (live messages; the server
 * draws the others with templates/admin/chat/chatsession/message_files.html, the same
 * markup), and attaching files to a reply or a note, uploaded to the staff API with a
 * progress bar and a cancel button.
 *
 * Agents' browsers open files with their admin login: plain links and <img> elements to the
 * file view, which asks the access policy (and, with object storage, sends them on to a
 * short-lived signed URL). Names and sizes are only ever set as text.
 */
import { fileSize, format } from "../lib/format.js";
import { upload } from "../lib/http.js";
import { newClientId } from "../lib/ids.js";

/** The files of ``message`` (the API's shape) into ``container``, as the template draws them. */
export function renderFiles(container, attachments, strings) {
  container.textContent = "";
  (attachments || []).forEach(function (item) {
    var entry = document.createElement("li");
    entry.className = "msg-file msg-file-" + item.kind;
    if (!item.url) {
      entry.textContent = strings.fileRemoved;
      container.appendChild(entry);
      return;
    }
    var link = document.createElement("a");
    link.href = item.url;
    link.target = "_blank";
    link.rel = "noopener";
    if (item.thumbnail_url) {
      var image = document.createElement("img");
      image.src = item.thumbnail_url;
      image.alt = item.name;
      image.loading = "lazy";
      image.className = "msg-thumbnail";
      if (item.width && item.height) {
        image.width = Math.min(160, item.width);
        image.height = Math.round((image.width * item.height) / item.width);
      }
      link.appendChild(image);
    }
    var label = document.createElement("span");
    label.className = "msg-file-name";
    label.textContent = item.name + " (" + fileSize(item.size) + ")";
    link.appendChild(label);
    entry.appendChild(link);
    container.appendChild(entry);
  });
  container.hidden = !container.childElementCount;
}

/**
 * Files chosen in the reply form go with the reply (or note) to ``url``. Answers an object
 * the page asks ``hasFiles()`` and ``send(done)``: ``done(message)`` gets the stored message.
 */
export function attachToReplyForm({ form, textarea, url, strings, onError }) {
  var input = form.querySelector("#reply-files");
  var list = form.querySelector("#reply-file-list");
  var progress = form.querySelector("#reply-upload-progress");
  var cancel = form.querySelector("#reply-upload-cancel");
  var note = form.querySelector("#reply-internal");
  var clientId = newClientId();
  var controller = null;
  if (!input) {
    return null;
  }

  function showChosen() {
    list.textContent = "";
    Array.from(input.files || []).forEach(function (file) {
      var item = document.createElement("li");
      item.textContent = file.name + " (" + fileSize(file.size) + ")";
      list.appendChild(item);
    });
    list.hidden = !list.childElementCount;
    textarea.required = !hasFiles(); // files alone make a message; the text is their caption
    clientId = newClientId();
  }

  function hasFiles() {
    return Boolean(input.files && input.files.length);
  }

  input.addEventListener("change", showChosen);
  cancel.addEventListener("click", function () {
    if (controller) {
      controller.abort();
    }
  });

  function send(done) {
    var body = new FormData();
    Array.from(input.files).forEach(function (file) {
      body.append("files", file, file.name);
    });
    body.append("content", textarea.value);
    body.append("client_id", clientId); // kept until it is stored: sending again is a retry
    body.append("is_internal", note && note.checked ? "true" : "false");
    controller = new AbortController();
    progress.value = 0;
    progress.hidden = false;
    cancel.hidden = false;
    return upload(url, body, {
      onProgress: function (fraction) {
        progress.value = Math.round(fraction * 100);
      },
      signal: controller.signal,
    }).then(function (answer) {
      controller = null;
      progress.hidden = true;
      cancel.hidden = true;
      if (answer.aborted) {
        onError(strings.uploadCancelled);
        return false;
      }
      if (!answer.ok || !answer.data) {
        var reason = answer.status === 0 ? strings.offline : (answer.data && answer.data.error) || String(answer.status);
        onError(format(strings.sendFailed, { reason: reason }));
        return false;
      }
      input.value = "";
      showChosen();
      done(answer.data);
      return true;
    });
  }

  return { hasFiles: hasFiles, send: send };
}
