// One round trip per observation (BrowserEnv._tree): settle, stamp, reflect, mark hidden, serialize.
// - waits (at most settleMs) for the document to be parsed, for fetch/XHR calls counted by
//   browser_pending.js (so content a page loads by fetch is in the observation), for the zero-delay
//   timeouts and animation frames queued before it started (so an update a click deferred that way
//   is in it), and for a navigation that has started (so the observation never shows the page being
//   left). It does not yield to the event loop otherwise: after an input event Chromium renders a
//   frame before running the next task, and an unconditional yield cost ~10 ms per step;
// - stamps every element with data-dp = its index in document order, counting comments, exactly as
//   domplay.env.observation.stamp_tree numbers a lexbor tree (so both envs agree on plain pages);
// - reflects live form state into attributes (value, checked, selected) for the extractor;
// - marks the topmost element of each subtree the browser does not render (computed display:none or
//   visibility:hidden) with data-dp-hidden, and clears stale marks;
// - marks text a script made clickable (data-dp-click = its role): an element with a click listener
//   (browser_pending.js, jQuery delegation, onclick) whose content is text, or, for a list item
//   whose content is more (a tree's folder), its first child that is text; a tree item also gets
//   its depth (data-dp-level) and, when it holds a list, whether that list shows (data-dp-expanded).
async (settleMs) => {
  const deadline = performance.now() + settleMs;
  const setTimeout0 = window.__dpSetTimeout || setTimeout;
  const sleep = (ms) => new Promise((resolve) => setTimeout0(resolve, ms));
  // A form submission navigates in a later task: browser_pending.js flagged it (__dpLeaving) already.
  const soon = window.__dpSoon;
  const queued = soon ? [...soon] : [];
  const busy = () => document.readyState === "loading" || (window.__dpPending || 0) > 0 ||
    queued.some((key) => soon.has(key));
  let waited = false;
  while (busy() && performance.now() < deadline) {
    waited = true;
    await sleep(2);
  }
  if (waited) { await sleep(0); await sleep(0); }  // let the page's own .then() callbacks render
  // Navigation under way (beforeunload fired): this document is about to be replaced, which ends
  // this evaluation with an error that BrowserEnv answers by observing the new document. If the
  // navigation was cancelled (204 response, refused download), observe this one after settleMs.
  while (window.__dpLeaving === true && performance.now() < deadline) await sleep(2);
  window.__dpLeaving = false;
  const NOT_RENDERED = new Set(["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "META", "LINK", "TITLE", "BASE"]);
  const sync = (el, name, want) => {
    if (want) { if (!el.hasAttribute(name)) el.setAttribute(name, ""); }
    else if (el.hasAttribute(name)) el.removeAttribute(name);
  };
  const reflect = (el) => {
    const tag = el.tagName;
    if (tag === "INPUT") {
      const type = (el.getAttribute("type") || "").toLowerCase();
      if (type === "checkbox" || type === "radio") sync(el, "checked", el.checked);
      else if (type !== "file" && el.getAttribute("value") !== el.value) el.setAttribute("value", el.value);
    } else if (tag === "TEXTAREA") {
      if (el.getAttribute("value") !== el.value) el.setAttribute("value", el.value);
    } else if (tag === "OPTION") {
      sync(el, "selected", el.selected);
    }
  };
  const clickMarks = markClickable();
  const syncValue = (el, name, value) => {
    if (value === undefined) { if (el.hasAttribute(name)) el.removeAttribute(name); }
    else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  };
  const markClick = (el) => {
    const mark = clickMarks.get(el);
    syncValue(el, "data-dp-click", mark && mark.role);
    syncValue(el, "data-dp-level", mark && mark.level);
    syncValue(el, "data-dp-expanded", mark && mark.expanded);
  };
  let n = 0;
  const walk = (el, inBody, hiddenAbove) => {
    el.setAttribute("data-dp", String(n++));
    let hidden = hiddenAbove;
    if (inBody && !NOT_RENDERED.has(el.tagName)) {
      if (!hiddenAbove) {
        const style = getComputedStyle(el);
        hidden = style.display === "none" || style.visibility === "hidden";
        sync(el, "data-dp-hidden", hidden);
      } else if (el.hasAttribute("data-dp-hidden")) {
        el.removeAttribute("data-dp-hidden");
      }
    }
    reflect(el);
    markClick(el);
    for (let c = el.firstChild; c !== null; c = c.nextSibling) {
      if (c.nodeType === Node.ELEMENT_NODE) walk(c, inBody || c === document.body, hidden);
      else if (c.nodeType === Node.COMMENT_NODE) n++;
    }
  };
  walk(document.documentElement, false, false);

  function markClickable() {
    const INLINE = new Set(["B", "I", "EM", "STRONG", "SMALL", "U", "S", "MARK", "CODE", "SUB", "SUP", "SPAN", "BR"]);
    const CLICK_TYPES = ["click", "mousedown", "mouseup"];
    const OWN = new Set(["A", "BUTTON", "INPUT", "SELECT", "TEXTAREA", "SUMMARY", "OPTION", "LABEL", "BODY", "HTML"]);
    const targets = new Set();
    for (const el of window.__dpClickTargets || []) {
      if (el.isConnected) targets.add(el); else window.__dpClickTargets.delete(el);
    }
    for (const el of document.querySelectorAll("[onclick]")) targets.add(el);
    const jq = window.jQuery;
    if (jq && typeof jq._data === "function") {  // delegated handlers: $(box).on("click", "span", f)
      for (const host of [document, document.body, ...targets]) {
        const events = host ? jq._data(host, "events") : null;
        for (const type of CLICK_TYPES) {
          for (const h of (events && events[type]) || []) {
            if (!h.selector) continue;
            try { for (const c of host.querySelectorAll(h.selector)) targets.add(c); } catch (e) { /* jQuery-only selector */ }
          }
        }
      }
    }
    const textLeaf = (el) => !OWN.has(el.tagName) && el.textContent.trim() !== "" &&
      [...el.children].every((c) => INLINE.has(c.tagName) && !targets.has(c));
    const marks = new Map();
    for (const el of targets) {
      if (OWN.has(el.tagName) || el.hasAttribute("role")) continue;  // interactive already
      if (el.tagName === "LI") {
        const label = [...el.children].find(textLeaf);
        if (label === undefined) continue;
        let level = 0;
        for (let a = el; a !== null; a = a.parentElement) if (a.tagName === "LI") level++;
        const sub = [...el.children].find((c) => c.tagName === "UL" || c.tagName === "OL");
        const expanded = sub === undefined ? undefined : String(getComputedStyle(sub).display !== "none");
        marks.set(label, { role: "treeitem", level: String(level), expanded });
      } else if (textLeaf(el) && !marks.has(el)) {
        marks.set(el, { role: "link" });
      }
    }
    return marks;
  }
  const popups = window.__dpPopups || 0;
  window.__dpPopups = 0;
  return { html: document.documentElement.outerHTML, url: location.href, popups };
}
