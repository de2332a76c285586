// Viewer: pages through the slides and reports on-screen time per slide.
//
// Time counts only while the page is visible and the window has focus, and
// stops 5 minutes after the last mouse, key, scroll or touch input. Each
// stretch becomes a "viewed" event with an id made here, kept in
// localStorage until the server has answered for it, so a lost request is
// simply sent again and the server stores each id once.
//
// A video slide reports the seconds it actually played and the furthest
// point reached as "watched" events; while it plays, that time is the
// slide's on-screen time, so the "viewed" clock waits. Stepping into an
// interactive (HTML) slide is reported as an "interacted" event: its own
// clicks and keys stay inside its sandbox, but the page sees its focus.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("viewer-config").textContent);
  const slides = JSON.parse(document.getElementById("slides-data").textContent);
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

  const stage = document.getElementById("stage");
  const counter = document.getElementById("counter");
  const previous = document.getElementById("previous");
  const next = document.getElementById("next");
  const title = document.getElementById("slide-title");
  const description = document.getElementById("slide-description");

  const IDLE_MS = config.idleSeconds * 1000;
  const FLUSH_EVERY_MS = 12000;
  const BATCH = 100;
  const QUEUE_LIMIT = 5000;
  const QUEUE_KEY = "entatio:events:" + config.member;

  let index = config.position - 1;
  let visit = config.visit;

  // The video on the stage, its played time not yet reported, the furthest
  // point it reached, and where it stood at the last look.
  let video = null;
  let playedMs = 0;
  let furthestMs = 0;
  let lastTime = 0;
  // A jump larger than this between two looks is a seek, not playing.
  const MAX_STEP_S = 1.5;

  // --- On-screen time -----------------------------------------------------

  let since = Date.now();
  let lastInput = since;
  let counting = onScreen();
  let pendingMs = 0;

  function onScreen() {
    return (
      document.visibilityState === "visible" && document.hasFocus() && !playing()
    );
  }

  // Add the time since the last call to the current slide, if it counted.
  function settle() {
    const now = Date.now();
    if (counting) {
      const end = Math.min(now, lastInput + IDLE_MS);
      if (end > since) pendingMs += end - since;
    }
    since = now;
    counting = onScreen();
  }

  function noteInput() {
    const now = Date.now();
    // Close an idle stretch first, so that it ends where counting stopped.
    if (now - lastInput > IDLE_MS) settle();
    lastInput = now;
  }

  function takeEvent() {
    settle();
    takeWatched();
    const ms = Math.round(pendingMs);
    pendingMs = 0;
    if (ms <= 0) return;
    enqueue(event("viewed", { duration_ms: ms }));
  }

  function event(verb, fields) {
    return Object.assign(
      {
        id: newId(),
        slide: slides[index].id,
        presentation: config.presentation,
        verb: verb,
        at: new Date().toISOString(),
        duration_ms: 0,
        visit: visit,
      },
      fields
    );
  }

  // --- Watched time of a video slide --------------------------------------

  function playing() {
    return Boolean(video && !video.paused && !video.ended);
  }

  function watch(element) {
    video = element;
    playedMs = 0;
    furthestMs = 0;
    lastTime = 0;
    ["timeupdate", "pause", "ended"].forEach(function (name) {
      element.addEventListener(name, lookAtVideo);
    });
    element.addEventListener("seeking", function () {
      lastTime = element.currentTime;
    });
    element.addEventListener("play", function () {
      // The viewed clock stops here; what it had counted so far is kept.
      settle();
      lastTime = element.currentTime;
      noteInput();
    });
    ["pause", "ended"].forEach(function (name) {
      element.addEventListener(name, function () {
        takeEvent();
        send();
      });
    });
  }

  function lookAtVideo() {
    if (!video) return;
    const now = video.currentTime;
    const step = now - lastTime;
    const visible = document.visibilityState === "visible";
    if (step > 0 && step <= MAX_STEP_S * video.playbackRate && visible) {
      playedMs += step * 1000;
      furthestMs = Math.max(furthestMs, now * 1000);
    }
    lastTime = now;
  }

  function takeWatched() {
    if (!video) return;
    lookAtVideo();
    const ms = Math.round(playedMs);
    playedMs = 0;
    if (ms <= 0) return;
    enqueue(
      event("watched", { duration_ms: ms, furthest_ms: Math.round(furthestMs) })
    );
  }

  // --- Interactive slides --------------------------------------------------

  // Focus moving into the slide's frame is the one sign of use the page can
  // see; it also counts as input, since the frame's own input is hidden.
  window.addEventListener("blur", function () {
    const active = document.activeElement;
    if (active && active.tagName === "IFRAME" && stage.contains(active)) {
      noteInput();
      enqueue(event("interacted", {}));
      send();
    }
  });

  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    // Pages served over plain HTTP have no randomUUID; make a version 4 id.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
    return [
      hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16),
      hex.slice(16, 20), hex.slice(20),
    ].join("-");
  }

  // --- The queue of unsent events ----------------------------------------

  let memoryQueue = [];

  function readQueue() {
    try {
      return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
    } catch (error) {
      return memoryQueue;
    }
  }

  function writeQueue(events) {
    memoryQueue = events.slice(-QUEUE_LIMIT);
    try {
      localStorage.setItem(QUEUE_KEY, JSON.stringify(memoryQueue));
    } catch (error) {
      // Storage full or disabled: the events live as long as the page.
    }
  }

  function enqueue(event) {
    const events = readQueue();
    events.push(event);
    writeQueue(events);
  }

  function forget(sent) {
    const ids = new Set(sent.map(function (e) { return e.id; }));
    writeQueue(readQueue().filter(function (e) { return !ids.has(e.id); }));
  }

  // The server started a new visit after a long pause: use its id from now on.
  function adoptVisits(renamed) {
    if (!renamed || !renamed[visit]) return;
    const old = visit;
    visit = renamed[old];
    writeQueue(
      readQueue().map(function (e) {
        return e.visit === old ? Object.assign({}, e, { visit: visit }) : e;
      })
    );
  }

  // --- Sending ------------------------------------------------------------

  // Events on their way (a request or a beacon) are not sent twice at once:
  // two copies racing could each open a new visit after a long pause.
  const inFlight = new Set();
  let sending = false;

  function unsent() {
    return readQueue()
      .filter(function (e) { return !inFlight.has(e.id); })
      .slice(0, BATCH);
  }

  function send() {
    const batch = unsent();
    if (sending || batch.length === 0) return;
    sending = true;
    batch.forEach(function (e) { inFlight.add(e.id); });
    fetch(config.eventsUrl, {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken,
      },
      body: JSON.stringify({ events: batch }),
    })
      .then(function (response) {
        if (response.ok) {
          return response.json().then(function (body) {
            forget(batch);
            adoptVisits(body.visits);
            return true;
          });
        }
        // Refused for good (a slide no longer shared, a malformed event):
        // sending it again would never succeed.
        if (response.status === 400 || response.status === 404) forget(batch);
        return false;
      })
      .catch(function () {
        return false;
      })
      .then(function (sent) {
        batch.forEach(function (e) { inFlight.delete(e.id); });
        sending = false;
        if (sent && unsent().length) send();
      });
  }

  // Leaving the page: a beacon outlives it. The events stay queued, and the
  // next viewer page sends them again; the server keeps each id once.
  function sendBeacon() {
    const batch = unsent();
    if (batch.length === 0 || !navigator.sendBeacon) return;
    const data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken);
    data.append("events", JSON.stringify(batch));
    if (navigator.sendBeacon(config.eventsUrl, data)) {
      batch.forEach(function (e) { inFlight.add(e.id); });
    }
  }

  // --- Paging -------------------------------------------------------------

  function show(target) {
    if (target < 0 || target >= slides.length || target === index) return;
    takeEvent();
    video = null;
    index = target;
    render();
    history.replaceState(null, "", "?slide=" + (index + 1));
    send();
  }

  function render() {
    const slide = slides[index];
    stage.replaceChildren(stageContent(slide));
    title.textContent = slide.title || "Untitled slide";
    description.textContent = slide.description;
    counter.textContent = "Slide " + (index + 1) + " of " + slides.length;
    setLink(previous, index - 1);
    setLink(next, index + 1);
    preload(index + 1);
    // The discussion panel follows the slide on the stage.
    document.dispatchEvent(
      new CustomEvent("entatio:slide-shown", { detail: { slide: slide.id } })
    );
  }

  function stageContent(slide) {
    if (slide.kind === "video" && slide.media) {
      const player = document.createElement("video");
      player.controls = true;
      player.preload = "metadata";
      player.src = slide.media;
      if (slide.image) player.poster = slide.image;
      watch(player);
      return player;
    }
    if (slide.kind === "html" && slide.page) {
      const frame = document.createElement("iframe");
      frame.setAttribute("sandbox", "allow-scripts");
      frame.src = slide.page;
      frame.title = slide.title || "Slide";
      return frame;
    }
    if (slide.kind === "text" && slide.html) {
      const card = document.createElement("div");
      card.className = "text-card markdown";
      // Made and sanitized by the server from the card's Markdown.
      card.innerHTML = slide.html;
      return card;
    }
    if (slide.image) {
      const image = document.createElement("img");
      image.src = slide.image;
      image.alt = slide.title || "Slide";
      if (slide.width) {
        image.width = slide.width;
        image.height = slide.height;
      }
      return image;
    }
    const card = document.createElement("div");
    card.className = "text-card";
    card.textContent = slide.text || slide.title;
    return card;
  }

  function setLink(link, target) {
    const usable = target >= 0 && target < slides.length;
    link.href = "?slide=" + (usable ? target + 1 : index + 1);
    if (usable) link.removeAttribute("aria-disabled");
    else link.setAttribute("aria-disabled", "true");
  }

  function preload(target) {
    if (target < slides.length && slides[target].image) {
      new Image().src = slides[target].image;
    }
  }

  previous.addEventListener("click", function (event) {
    event.preventDefault();
    show(index - 1);
  });
  next.addEventListener("click", function (event) {
    event.preventDefault();
    show(index + 1);
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const moves = {
      ArrowRight: index + 1,
      PageDown: index + 1,
      ArrowLeft: index - 1,
      PageUp: index - 1,
      Home: 0,
      End: slides.length - 1,
    };
    if (event.key in moves) {
      event.preventDefault();
      show(moves[event.key]);
    }
  });

  // --- Wiring -------------------------------------------------------------

  ["mousemove", "mousedown", "keydown", "wheel", "touchstart", "pointerdown"]
    .forEach(function (name) {
      document.addEventListener(name, noteInput, { passive: true, capture: true });
    });
  window.addEventListener("scroll", noteInput, { passive: true });

  window.addEventListener("focus", settle);
  window.addEventListener("blur", settle);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      takeEvent();
      send();
    } else {
      settle();
    }
  });
  window.addEventListener("pagehide", function () {
    takeEvent();
    sendBeacon();
  });
  // Back from the browser's page cache: start afresh and resend what waits.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    inFlight.clear();
    since = Date.now();
    lastInput = since;
    counting = onScreen();
    send();
  });

  setInterval(function () {
    takeEvent();
    send();
  }, FLUSH_EVERY_MS);

  const firstVideo = stage.querySelector("video");
  if (firstVideo) watch(firstVideo);
  preload(index + 1);
  send();
})();
