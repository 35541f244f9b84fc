// Init script (runs before any page script): count fetch/XHR calls still in flight in
// window.__dpPending and flag a starting navigation in window.__dpLeaving (so an observation
// can wait for both), and count blocked window.open calls in window.__dpPopups.
(() => {
  if (window.__dpPending !== undefined) return;
  window.__dpPending = 0;
  // A cross-document navigation is starting: the observe script waits for the new document.
  window.addEventListener("beforeunload", () => { window.__dpLeaving = true; });
  // A form submission navigates in a later task, after the click that caused it has returned:
  // flag it now (window is the last stop of the submit event, so the page could cancel it first).
  window.addEventListener("submit", (ev) => {
    const method = ((ev.submitter && ev.submitter.getAttribute("formmethod")) || ev.target.method || "").toLowerCase();
    if (!ev.defaultPrevented && method !== "dialog") window.__dpLeaving = true;
  });
  const done = () => { setTimeout(() => { window.__dpPending -= 1; }, 0); };
  const fetch0 = window.fetch;
  if (typeof fetch0 === "function") {
    window.fetch = function (...args) {
      window.__dpPending += 1;
      const p = fetch0.apply(this, args);
      // Count the body read too: pages call .json() / .text() right after the response.
      p.then((r) => r.clone().arrayBuffer().then(done, done), done);
      return p;
    };
  }
  // One tab only: window.open opens nothing; the next observation says it was blocked.
  window.__dpPopups = 0;
  window.open = function () { window.__dpPopups += 1; return null; };
  const send0 = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    window.__dpPending += 1;
    this.addEventListener("loadend", done, { once: true });
    return send0.apply(this, args);
  };
})();
