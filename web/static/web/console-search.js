// Search as you type on the console's Find page. The page works without this: the form
// submits and the whole page comes back with the results. With it, each pause in typing asks
// the same page for only its results (?q=...&part=results), puts them in place, says how
// many were found in a live region (for screen readers) and keeps the address in step, so
// Back from a caller's card returns to the same results. Loaded as
// <script type="module" src="{% static 'web/console-search.js' %}">.
const PAUSE_MS = 150;

const form = document.querySelector("form[data-console-search]");
if (form) {
  const input = form.querySelector("input[name=q]");
  const results = document.getElementById(form.dataset.results);
  const status = document.getElementById(form.dataset.status);
  let timer;
  let inFlight;
  let shown = input.value.trim();

  const update = async () => {
    const query = input.value.trim();
    if (query === shown) {
      return;
    }
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const url = new URL(form.action, window.location.href);
    url.searchParams.set("q", query);
    url.searchParams.set("part", "results");
    let response;
    try {
      response = await fetch(url, {
        signal: controller.signal,
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
    } catch (error) {
      if (error.name === "AbortError") {
        return;
      }
      throw error;
    }
    // Signed out meanwhile, or the server failed: leave the page as it is; submitting still
    // works and says what happened.
    if (!response.ok || response.redirected) {
      return;
    }
    const html = await response.text();
    if (controller.signal.aborted) {
      return;
    }
    shown = query;
    results.innerHTML = html;
    const count = results.querySelector("[data-count]");
    status.textContent = count ? count.textContent.trim() : "";
    const address = new URL(window.location.href);
    if (query) {
      address.searchParams.set("q", query);
    } else {
      address.searchParams.delete("q");
    }
    window.history.replaceState(null, "", address);
  };

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, PAUSE_MS);
  });
}
