// Live sessions: the audience page follows the presenter's slide; the
// presenter page steers, and shows notes, the next slide and who is present.
// Every message carries the whole state, so drawing it is all there is to do.
(function () {
  "use strict";

  const root = document.getElementById("live");
  const config = JSON.parse(document.getElementById("live-config").textContent);
  const presenting = root.dataset.role === "presenter";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const REFUSED = 4403;
  const ENDED = 4410;
  let socket = null;
  let retryMs = 1000;
  let ended = false;

  function slideElement(slide) {
    if (!slide) {
      const empty = document.createElement("div");
      empty.className = "text-card";
      empty.textContent = "No slide to show.";
      return empty;
    }
    if (slide.image) {
      const img = document.createElement("img");
      img.src = slide.image;
      img.alt = slide.title || "Slide";
      img.dataset.slide = slide.id;
      return img;
    }
    const card = document.createElement("div");
    card.className = "text-card";
    card.dataset.slide = slide.id;
    card.textContent = slide.text || slide.title || "";
    return card;
  }

  function draw(state) {
    const stage = document.getElementById("current-slide");
    stage.replaceChildren(slideElement(state.slide));
    stage.dataset.position = state.position;
    const counter = document.getElementById("counter");
    counter.textContent = state.position ? `Slide ${state.position} of ${state.count}` : "";
    if (state.kind === "ended") {
      showEnded();
    }
    if (presenting) {
      drawPresenter(state);
    }
  }

  function drawPresenter(state) {
    const next = document.getElementById("next-slide");
    next.replaceChildren(state.next ? slideElement(state.next) : document.createTextNode("This is the last slide."));
    document.getElementById("notes").textContent = state.notes || "No notes for this slide.";
    document.getElementById("present-count").textContent = state.present_count || 0;
    const list = document.getElementById("present-list");
    const onSite = new Set();
    list.replaceChildren(...(state.present || []).map((person) => {
      const item = document.createElement("li");
      item.dataset.member = person.id;
      item.textContent = `${person.name} (${person.ways.map((w) => w === "on_site" ? "on site" : w).join(", ")})`;
      if (person.ways.includes("on_site")) onSite.add(person.id);
      return item;
    }));
    document.querySelectorAll(".live-check-in-form").forEach((form) => {
      const id = Number(form.elements.member.value);
      const button = form.querySelector("button");
      const out = onSite.has(id);
      button.textContent = out ? "Check out" : "Check in";
      form.dataset.out = out ? "1" : "";
    });
    document.getElementById("previous").disabled = state.position <= 1;
    document.getElementById("next").disabled = !state.next;
  }

  function showEnded() {
    ended = true;
    const note = document.getElementById("live-note");
    if (note) note.textContent = "This live session has ended.";
    const status = document.querySelector(".live-badge");
    if (status) status.textContent = "Ended";
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}${config.socket}`);
    socket.addEventListener("open", () => {
      retryMs = 1000;
      const note = document.getElementById("live-note");
      if (note) note.textContent = "Following the presenter.";
      root.dataset.connected = "true";
    });
    socket.addEventListener("message", (message) => draw(JSON.parse(message.data)));
    socket.addEventListener("close", (closing) => {
      root.dataset.connected = "false";
      if (closing.code === ENDED || ended) {
        showEnded();
        return;
      }
      const note = document.getElementById("live-note");
      if (closing.code === REFUSED) {
        if (note) note.textContent = "You cannot follow this session.";
        return;
      }
      if (note) note.textContent = "Connection lost; reconnecting…";
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    });
  }

  async function post(form, extra) {
    const body = new FormData(form);
    for (const [key, value] of Object.entries(extra || {})) body.set(key, value);
    const response = await fetch(form.action, {
      method: "POST",
      body,
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.ok) draw(await response.json());
  }

  function move(to) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ action: to }));
      return;
    }
    const form = document.querySelector(`.live-move input[value="${to}"]`).form;
    post(form);
  }

  function steer() {
    document.querySelectorAll(".live-move").forEach((form) => {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        move(form.elements.to.value);
      });
    });
    document.querySelectorAll(".live-check-in-form").forEach((form) => {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        post(form, form.dataset.out ? { out: "1" } : {});
      });
    });
    document.addEventListener("keydown", (event) => {
      if (event.target.closest("input, textarea, select, [contenteditable]")) return;
      if (event.key === "ArrowRight" || event.key === "PageDown" || event.key === " ") {
        event.preventDefault();
        move("next");
      } else if (event.key === "ArrowLeft" || event.key === "PageUp") {
        event.preventDefault();
        move("previous");
      }
    });
  }

  draw(config.state);
  if (presenting) steer();
  if (config.state.kind !== "ended") connect();
})();
