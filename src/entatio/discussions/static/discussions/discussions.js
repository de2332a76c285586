// Discussion panels of the viewer: the thread of the slide on the stage and
// the thread of the whole presentation.
//
// The server renders each thread; this script only fetches it into its
// panel, follows the slide the viewer shows, and sends the panel's forms in
// the background so that posting never leaves the slide. Without the
// script, the panels link to the discussion pages, which work on their own.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("viewer-config").textContent);
  const slides = JSON.parse(document.getElementById("slides-data").textContent);
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const slidePanel = document.getElementById("slide-discussion");
  const presentationPanel = document.getElementById("presentation-discussion");
  const FRAGMENT = { "X-Entatio-Fragment": "thread" };

  // Answers can arrive out of order when slides change quickly; only the
  // latest request of a panel may fill it.
  const latest = new WeakMap();

  function holder(panel) {
    return panel.querySelector(".thread-holder");
  }

  // A thread that could not be loaded is replaced by the reason; a form that
  // could not be sent stays as it was, draft and all, under the reason.
  function fill(panel, request, keepOnFailure) {
    const ticket = (latest.get(panel) || 0) + 1;
    latest.set(panel, ticket);
    panel.setAttribute("aria-busy", "true");
    return request
      .then(function (response) {
        return response.text().then(function (html) {
          // Errors come back as the thread with the reason in it; anything
          // else (a login page, a 404 page) is not a thread.
          if (!html.includes('class="thread"')) throw new Error(response.status);
          return html;
        });
      })
      .then(function (html) {
        // Made by the server from escaped text and sanitized Markdown.
        if (latest.get(panel) === ticket) holder(panel).innerHTML = html;
      })
      .catch(function () {
        if (latest.get(panel) !== ticket) return;
        const note = document.createElement("p");
        note.className = "errorlist thread-error";
        note.setAttribute("role", "alert");
        if (!keepOnFailure) {
          note.textContent = "The discussion could not be loaded; try again.";
          holder(panel).replaceChildren(note);
          return;
        }
        note.textContent = "Your post could not be sent; try again.";
        holder(panel).querySelectorAll(".thread-error").forEach(function (old) {
          old.remove();
        });
        holder(panel).prepend(note);
        holder(panel).querySelectorAll("button[type=submit]").forEach(function (b) {
          b.disabled = false;
        });
      })
      .finally(function () {
        if (latest.get(panel) === ticket) panel.removeAttribute("aria-busy");
      });
  }

  function load(panel, slideId) {
    const url = panel.dataset.url + (slideId ? "?slide=" + slideId : "");
    return fill(
      panel,
      fetch(url, { credentials: "same-origin", headers: FRAGMENT })
    );
  }

  function send(panel, form) {
    const headers = Object.assign({ "X-CSRFToken": csrfToken }, FRAGMENT);
    const request = fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: new FormData(form),
    });
    return fill(panel, request, true).then(function () {
      const box = holder(panel).querySelector(".new-post textarea");
      if (box && !holder(panel).querySelector(".thread-error")) box.focus();
    });
  }

  [slidePanel, presentationPanel].forEach(function (panel) {
    panel.addEventListener("submit", function (event) {
      const form = event.target;
      if (!form.closest(".thread")) return;
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      send(panel, form);
    });
  });

  document.addEventListener("entatio:slide-shown", function (event) {
    load(slidePanel, event.detail.slide);
  });

  load(slidePanel, slides[config.position - 1].id);
  load(presentationPanel, null);
})();
