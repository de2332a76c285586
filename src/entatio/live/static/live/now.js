// The library's "a live session is on" banner: fetched after the page, and
// again every half minute, so a session that starts shows up by itself.
(function () {
  "use strict";

  const holder = document.getElementById("live-now");
  if (!holder) return;

  async function refresh() {
    try {
      const response = await fetch(holder.dataset.url, { credentials: "same-origin" });
      if (response.status === 200) holder.innerHTML = await response.text();
    } catch (error) {
      // Offline for a moment: the next refresh tries again.
    }
  }

  refresh();
  setInterval(refresh, 30000);
})();
