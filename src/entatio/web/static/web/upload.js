// Upload: each file goes on its own request, so each shows its own progress;
// then the import is followed until the slides are ready.
(function () {
  "use strict";

  const form = document.getElementById("upload-form");
  const input = document.getElementById("upload-files");
  const zone = document.getElementById("dropzone");
  const list = document.getElementById("upload-list");
  const itemTemplate = document.getElementById("upload-item");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const maxBytes = Number(form.dataset.maxBytes);
  const POLL_MS = 1000;

  const queue = [];
  let sending = false;
  let retryIds = 0;

  function addFiles(files) {
    const batch = Array.from(files);
    const title = batch.length === 1 ? form.elements.title.value.trim() : "";
    const password = form.elements.password.value;
    for (const file of batch) {
      const item = { file, title, password, view: makeView(file) };
      if (file.size > maxBytes) {
        showError(item, "This file is larger than the upload limit.");
        continue;
      }
      queue.push(item);
    }
    sendNext();
  }

  function makeView(file) {
    const node = itemTemplate.content.firstElementChild.cloneNode(true);
    node.querySelector(".name").textContent = file.name;
    const retryId = "retry-password-" + ++retryIds;
    node.querySelector(".retry label").htmlFor = retryId;
    node.querySelector(".retry input").id = retryId;
    list.prepend(node);
    return {
      node,
      state: node.querySelector(".state"),
      bar: node.querySelector("progress"),
      error: node.querySelector(".error"),
      retry: node.querySelector(".retry"),
      links: node.querySelector(".links"),
    };
  }

  function sendNext() {
    if (sending || queue.length === 0) return;
    sending = true;
    send(queue.shift());
  }

  function send(item) {
    const { view } = item;
    view.error.hidden = true;
    view.retry.hidden = true;
    view.state.textContent = "Uploading… 0%";
    view.bar.removeAttribute("value");

    const data = new FormData();
    data.append("file", item.file);
    data.append("title", item.title);
    data.append("password", item.password);

    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-CSRFToken", csrfToken);
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = function (event) {
      if (!event.lengthComputable) return;
      const percent = Math.round((event.loaded / event.total) * 100);
      view.bar.max = 100;
      view.bar.value = percent;
      view.state.textContent = "Uploading… " + percent + "%";
    };
    request.upload.onload = function () {
      view.state.textContent = "Uploaded, preparing slides…";
      view.bar.removeAttribute("value");
    };
    request.onload = function () {
      const body = parse(request.responseText);
      if (request.status === 201) {
        follow(item, body);
      } else {
        refused(item, body, request.status);
      }
      sending = false;
      sendNext();
    };
    request.onerror = function () {
      showError(item, "The upload did not reach the server. Check the connection.");
      sending = false;
      sendNext();
    };
    request.send(data);
  }

  function parse(text) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return {};
    }
  }

  function refused(item, body, status) {
    if (status === 401) {
      showError(item, "You were signed out. Log in again and upload once more.");
      return;
    }
    showError(item, body.error || "The server refused this file (" + status + ").");
    if (body.needs_password) askPassword(item);
  }

  function askPassword(item) {
    const { retry } = item.view;
    const field = retry.querySelector("input");
    const button = retry.querySelector("button");
    retry.hidden = false;
    field.value = "";
    field.focus();
    const again = function () {
      item.password = field.value;
      queue.push(item);
      sendNext();
    };
    button.onclick = again;
    field.onkeydown = function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        again();
      }
    };
  }

  function showError(item, message) {
    const { view } = item;
    view.error.textContent = message;
    view.error.hidden = false;
    view.state.textContent = "Not imported";
    view.bar.max = 100;
    view.bar.value = 0;
  }

  function follow(item, status) {
    show(item, status);
    if (status.status === "ready" || status.status === "failed") return;
    setTimeout(function () {
      fetch(status.status_url, { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.json();
        })
        .then(function (next) {
          follow(item, next);
        })
        .catch(function () {
          follow(item, status);
        });
    }, POLL_MS);
  }

  function show(item, status) {
    const { view } = item;
    if (status.status === "failed") {
      showError(item, status.error || "The import failed.");
      return;
    }
    if (status.progress_total > 0) {
      view.bar.max = status.progress_total;
      view.bar.value = status.progress_done;
      view.state.textContent =
        "slide " + status.progress_done + " of " + status.progress_total;
    } else {
      view.bar.removeAttribute("value");
      view.state.textContent = status.status_label + "…";
    }
    if (status.status === "ready" && status.presentation) {
      view.bar.max = 1;
      view.bar.value = 1;
      const count = status.progress_total;
      view.state.textContent = count
        ? "Ready: " + count + " slide" + (count === 1 ? "" : "s")
        : "Ready";
      showLinks(view, status.presentation);
    }
  }

  function showLinks(view, presentation) {
    const edit = document.createElement("a");
    edit.href = presentation.editor_url;
    edit.className = "button primary small";
    edit.textContent = "Edit slides of " + presentation.title;
    const open = document.createElement("a");
    open.href = presentation.viewer_url;
    open.className = "button small";
    open.textContent = "View";
    view.links.replaceChildren(edit, document.createTextNode(" "), open);
    view.links.hidden = false;
  }

  input.addEventListener("change", function () {
    addFiles(input.files);
    input.value = "";
  });

  zone.addEventListener("dragover", function (event) {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", function () {
    zone.classList.remove("over");
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer && event.dataTransfer.files.length) {
      addFiles(event.dataTransfer.files);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });
})();
