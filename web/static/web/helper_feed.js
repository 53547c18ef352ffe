// The helper's feed refreshes itself while it is on screen: every minute (the page's
// data-refresh-seconds), the feed is fetched again and its list replaced if it changed, and a
// polite status line says so. Without JavaScript the page is the same, with its
// "Look again" button; nothing here is needed to use it.
// Loaded as <script type="module"> from web/helper/feed.html (no inline script: the CSP).

const area = document.getElementById("feed-area");
const status = document.getElementById("feed-status");

if (area && status) {
  const seconds = Number(area.dataset.refreshSeconds) || 60;

  const refresh = async () => {
    // Never while hidden (a phone in a pocket), nor under a finger or the keyboard's focus.
    if (document.hidden || area.contains(document.activeElement)) {
      return;
    }
    let response;
    try {
      response = await fetch(window.location.href, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
    } catch {
      return; // offline for a moment: the next turn tries again
    }
    if (!response.ok || response.redirected) {
      return; // signed out, or anything else: leave the page as it is
    }
    const fresh = new DOMParser()
      .parseFromString(await response.text(), "text/html")
      .getElementById("feed-area");
    if (fresh && fresh.innerHTML !== area.innerHTML) {
      area.innerHTML = fresh.innerHTML;
      const now = new Date().toLocaleTimeString("en-GB", {
        hour: "numeric",
        minute: "2-digit",
      });
      // The sentence comes translated from the page, with {time} to fill in.
      const said = area.dataset.updated || "The tasks were updated at {time}.";
      status.textContent = said.replace("{time}", now);
    }
  };

  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      refresh();
    }
  });
}
