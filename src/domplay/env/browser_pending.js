// Init script (runs before any page script): count fetch/XHR calls still in flight in
// window.__dpPending, keep the zero-delay timeouts and animation frames not yet run in
// window.__dpSoon, and flag a starting navigation in window.__dpLeaving (so an observation
// can wait for all three), count blocked window.open calls in window.__dpPopups, and keep the elements
// that have click listeners in window.__dpClickTargets (as d3 and jQuery bind them), so the observe
// script can show text a script made clickable (links drawn as spans, tree items).
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
  // Work an action queued for "as soon as possible" (setTimeout(f) or setTimeout(f, 0), and
  // requestAnimationFrame(f)): the observe script waits for what was queued before it started, so a
  // page that updates itself in such a callback is observed updated. Keys: "t"+timeout id, "f"+frame id.
  const setTimeout0 = window.setTimeout;
  window.__dpSetTimeout = setTimeout0;  // the observe script's own sleeps are not the page's work
  const soon = new Set();
  window.__dpSoon = soon;
  const track = (key, callback) => function (...args) { soon.delete(key()); return callback.apply(this, args); };
  window.setTimeout = function (handler, delay, ...args) {
    if (typeof handler !== "function" || Number(delay) > 0) return setTimeout0(handler, delay, ...args);
    let id;
    id = setTimeout0(track(() => "t" + id, handler), delay, ...args);
    soon.add("t" + id);
    return id;
  };
  for (const name of ["clearTimeout", "clearInterval"]) {  // either clears a timeout (one id pool)
    const clear0 = window[name];
    window[name] = function (id) { soon.delete("t" + id); return clear0(id); };
  }
  const frame0 = window.requestAnimationFrame;
  const cancelFrame0 = window.cancelAnimationFrame;
  if (typeof frame0 === "function") {
    window.requestAnimationFrame = function (callback) {
      if (typeof callback !== "function") return frame0(callback);  // let the browser refuse it
      let id;
      id = frame0(track(() => "f" + id, callback));
      soon.add("f" + id);
      return id;
    };
    window.cancelAnimationFrame = function (id) { soon.delete("f" + id); return cancelFrame0(id); };
  }
  const done = () => { setTimeout0(() => { window.__dpPending -= 1; }, 0); };
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
  const CLICKS = new Set(["click", "mousedown", "mouseup", "pointerdown", "pointerup"]);
  const listening = new WeakMap();  // element -> Map(event type -> Set of listeners)
  window.__dpClickTargets = new Set();
  const add0 = EventTarget.prototype.addEventListener;
  const remove0 = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.addEventListener = function (type, listener, options) {
    if (CLICKS.has(type) && this instanceof Element && listener) {
      if (!listening.has(this)) listening.set(this, new Map());
      const byType = listening.get(this);
      if (!byType.has(type)) byType.set(type, new Set());
      byType.get(type).add(listener);
      window.__dpClickTargets.add(this);
    }
    return add0.call(this, type, listener, options);
  };
  EventTarget.prototype.removeEventListener = function (type, listener, options) {
    const byType = this instanceof Element ? listening.get(this) : undefined;
    if (byType && byType.has(type)) {
      byType.get(type).delete(listener);
      if (byType.get(type).size === 0) byType.delete(type);
      if (byType.size === 0) { listening.delete(this); window.__dpClickTargets.delete(this); }
    }
    return remove0.call(this, type, listener, options);
  };
  const send0 = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    window.__dpPending += 1;
    this.addEventListener("loadend", done, { once: true });
    return send0.apply(this, args);
  };
})();
