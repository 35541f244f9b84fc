// Where a click on the element stamped `stamp` lands, chosen as Playwright's forced click chooses it:
// the centre of the element's first box (of those with an area), scrolled into view when that box is
// not wholly inside the viewport, clipped to the viewport. A string says why there is no such point.
(stamp) => {
  const el = document.querySelector(`[data-dp="${stamp}"]`);
  if (el === null) return "it has gone from the page";
  const firstBox = () => [...el.getClientRects()].find((r) => r.width * r.height > 0.99);
  let box = firstBox();
  if (box === undefined) return "it is not rendered (it has no box on the page)";
  const width = document.documentElement.clientWidth || innerWidth;
  const height = document.documentElement.clientHeight || innerHeight;
  if (box.left < 0 || box.top < 0 || box.right > width || box.bottom > height) {
    el.scrollIntoView({ block: "center", inline: "center", behavior: "instant" });
    box = firstBox();
    if (box === undefined) return "it is not rendered (it has no box on the page)";
  }
  const left = Math.max(box.left, 0), right = Math.min(box.right, width);
  const top = Math.max(box.top, 0), bottom = Math.min(box.bottom, height);
  if (right <= left || bottom <= top) return "it is outside the page's visible area";
  return [(left + right) / 2, (top + bottom) / 2];
}
