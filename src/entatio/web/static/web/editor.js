// Slide editor: the page's forms are sent in the background and the page is
// updated in place; without this script they work as ordinary forms.
(function () {
  "use strict";

  const list = document.getElementById("slides");
  const orderStatus = document.getElementById("order-status");
  const shownCount = document.getElementById("shown-count");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(
        function (body) {
          if (!response.ok) throw new Error(body.error || "Not saved.");
          return body;
        },
        function () {
          throw new Error("Not saved (" + response.status + ").");
        }
      );
    });
  }

  function note(form, text, failed) {
    const target = form.querySelector(".saved-note");
    if (!target) return;
    target.textContent = text;
    target.classList.toggle("error", Boolean(failed));
  }

  document.querySelectorAll("form.js-save").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      note(form, "Saving…");
      post(form.action, new FormData(form))
        .then(function (body) {
          note(form, body.message || "Saved.");
        })
        .catch(function (error) {
          note(form, error.message, true);
        });
    });
  });

  document.querySelectorAll("form.js-hide").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      post(form.action, new FormData(form))
        .then(function (body) {
          showHidden(form, body.hidden);
        })
        .catch(function (error) {
          orderStatus.textContent = error.message;
        });
    });
  });

  function showHidden(form, hidden) {
    const row = form.closest(".slide-row");
    const button = form.querySelector("button");
    row.classList.toggle("is-hidden", hidden);
    form.elements.hidden.value = hidden ? "" : "on";
    button.textContent = hidden ? "Show" : "Hide";
    button.setAttribute("aria-pressed", String(hidden));

    const saveRow = row.querySelector(".save-row");
    let badge = saveRow.querySelector(".badge.hidden");
    if (hidden && !badge) {
      badge = document.createElement("span");
      badge.className = "badge hidden";
      badge.textContent = "Hidden";
      saveRow.querySelector(".saved-note").before(badge);
    } else if (!hidden && badge) {
      badge.remove();
    }
    shownCount.textContent = list.querySelectorAll(
      ".slide-row:not(.is-hidden)"
    ).length;
    button.focus();
  }

  document.querySelectorAll("form.js-move").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const row = form.closest(".slide-row");
      const up = form.elements.direction.value === "up";
      const neighbour = up ? row.previousElementSibling : row.nextElementSibling;
      if (!neighbour) return;
      if (up) neighbour.before(row);
      else neighbour.after(row);
      renumber();
      form.querySelector("button:not(:disabled)")?.focus();
      saveOrder();
    });
  });

  function renumber() {
    const rows = list.querySelectorAll(".slide-row");
    rows.forEach(function (row, index) {
      row.querySelector(".position").textContent = index + 1;
      const moves = row.querySelectorAll("form.js-move button");
      moves[0].disabled = index === 0;
      moves[1].disabled = index === rows.length - 1;
      const image = row.querySelector(".thumb img");
      if (image) image.alt = "Slide " + (index + 1);
    });
  }

  function saveOrder() {
    const order = Array.from(list.querySelectorAll(".slide-row")).map(
      function (row) {
        return row.dataset.slide;
      }
    );
    const data = new FormData();
    data.append("order", order.join(","));
    post(list.dataset.orderUrl, data)
      .then(function () {
        orderStatus.textContent = "Order saved.";
      })
      .catch(function (error) {
        // The page no longer matches the server; show the server's order.
        orderStatus.textContent = error.message;
        window.location.reload();
      });
  }

  // Dragging by the handle; the buttons do the same from the keyboard.
  let dragged = null;

  list.querySelectorAll(".slide-row").forEach(function (row) {
    const handle = row.querySelector(".drag-handle");
    handle.addEventListener("mousedown", function () {
      row.draggable = true;
    });
    row.addEventListener("dragstart", function (event) {
      dragged = row;
      row.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.dataset.slide);
    });
    row.addEventListener("dragend", function () {
      row.classList.remove("dragging");
      row.draggable = false;
      dragged = null;
      clearMarks();
    });
    row.addEventListener("dragover", function (event) {
      if (!dragged || dragged === row) return;
      event.preventDefault();
      clearMarks();
      row.classList.add(comesAfter(dragged, row) ? "drop-before" : "drop-after");
    });
    row.addEventListener("drop", function (event) {
      if (!dragged || dragged === row) return;
      event.preventDefault();
      if (comesAfter(dragged, row)) row.before(dragged);
      else row.after(dragged);
      clearMarks();
      renumber();
      saveOrder();
    });
  });

  // True when the dragged row sits below the target, so it lands above it.
  function comesAfter(moving, target) {
    return Boolean(
      moving.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_PRECEDING
    );
  }

  function clearMarks() {
    list.querySelectorAll(".drop-before, .drop-after").forEach(function (row) {
      row.classList.remove("drop-before", "drop-after");
    });
  }
})();
