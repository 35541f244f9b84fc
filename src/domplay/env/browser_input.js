// Prepares a fill, select or press on the element stamped `stamp`, as Playwright's forced actions do
// (its injected script's fill, selectOptions and focusNode), in one round trip and without Playwright's
// injected script, whose setup costs 40-80 ms on each new document. Returns "type" (the caller then
// types `value` as a keyboard does), "done", or {error: why}.
// - fill: a label fills its control; an input whose type takes a value (date, time, colour, range...)
//   gets it with input and change events; a text-like input, a textarea or contenteditable text gets
//   the focus with its content selected ("type"); read-only, disabled and other elements are refused;
// - select: the option whose label is `value` is selected, with input and change events;
// - press: the element gets the focus (an input not focused before, its caret at the start) ("type").
([verb, stamp, value]) => {
  let el = document.querySelector(`[data-dp="${stamp}"]`);
  if (el === null) return { error: "it has gone from the page" };
  if (verb !== "press" && el.tagName === "LABEL" && el.control) el = el.control;
  const fire = () => {
    el.dispatchEvent(new Event("input", { bubbles: true, composed: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  };
  if (verb === "press") {
    const wasFocused = document.activeElement === el;
    if (el.isContentEditable && !wasFocused && document.activeElement && document.activeElement.blur) {
      document.activeElement.blur();
    }
    el.focus();
    if (!wasFocused && el.tagName === "INPUT") {
      try { el.setSelectionRange(0, 0); } catch (e) { /* a type without a caret */ }
    }
    return "type";
  }
  if (verb === "select") {
    if (el.tagName !== "SELECT") return { error: "it is not a <select> element" };
    const label = (text) => text.replace(/\s+/g, " ").trim();
    const option = [...el.options].find((o) => o.label === value || label(o.label) === label(value));
    if (option === undefined) return { error: `it has no option ${JSON.stringify(value)}` };
    if (option.disabled || (option.parentElement && option.parentElement.disabled)) {
      return { error: `its option ${JSON.stringify(value)} is disabled` };
    }
    el.value = undefined;
    option.selected = true;
    fire();
    return "done";
  }
  if (el.readOnly === true) return { error: "read-only" };
  if (el.disabled === true) return { error: "it is disabled" };
  if (el.tagName === "INPUT") {
    const type = el.type.toLowerCase();
    const SET_VALUE = new Set(["color", "date", "time", "datetime-local", "month", "range", "week"]);
    const TYPE_INTO = new Set(["", "email", "number", "password", "search", "tel", "text", "url"]);
    if (!TYPE_INTO.has(type) && !SET_VALUE.has(type)) return { error: `an input of type "${type}" cannot be filled` };
    if (type === "number" && isNaN(Number(value.trim()))) return { error: "cannot type text into a number input" };
    if (SET_VALUE.has(type)) {
      el.focus();
      el.value = value.trim();
      fire();
      return "done";
    }
    el.select();
    el.focus();
    return "type";
  }
  if (el.tagName === "TEXTAREA") {
    el.selectionStart = 0;
    el.selectionEnd = el.value.length;
    el.focus();
    return "type";
  }
  if (!el.isContentEditable) return { error: "it is not an <input>, <textarea> or contenteditable element" };
  let focusTarget = el;
  while (focusTarget.isContentEditable && focusTarget.parentElement && focusTarget.parentElement.isContentEditable) {
    focusTarget = focusTarget.parentElement;
  }
  focusTarget.focus();
  const range = document.createRange();
  range.selectNodeContents(el);
  const selection = window.getSelection();
  if (selection) { selection.removeAllRanges(); selection.addRange(range); }
  return "type";
}
