// Small DOM helpers shared by the panels.

const SVGNS = "http://www.w3.org/2000/svg";

// An HTML element with an optional class and text.
export function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  return node;
}

// An SVG element with attributes, appended to `parent` when given.
export function svgEl(tag, attrs, parent, text) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text != null) node.textContent = text;
  if (parent) parent.append(node);
  return node;
}

// A panel redrawn whole from one slice of the state, and only when that slice changed: at thousands of
// events a second most frames change nothing a given panel shows.
export class SlicePanel {
  constructor(root) {
    this.root = root;
    this.body = root.querySelector(".panel-body");
    this.last = "";
  }

  reset() {
    this.last = "";
    this.body.textContent = "";
  }

  // True (and the body emptied for a redraw) when `slice` differs from what was drawn last.
  changed(slice) {
    const key = JSON.stringify(slice);
    if (key === this.last) return false;
    this.last = key;
    this.body.textContent = "";
    return true;
  }
}

// Scrollers that keep their newest line in view unless the reader has scrolled away from it. Whether one is
// at its end is learnt from its own scroll events (layout is clean then), never by reading layout in the
// middle of drawing; and the scrolls are made together once every view has drawn (scrollFollowers, called
// by the page at the end of a frame): one layout a frame, not one per view.
const toScroll = new Set();

export class Follower {
  constructor(scroller, slack = 30) {
    this.scroller = scroller;
    this.atEnd = true;
    this.setTo = -1;
    scroller.addEventListener("scroll", () => {
      const s = scroller;
      if (Math.abs(s.scrollTop - this.setTo) < 2) return; // our own scroll to the end
      this.atEnd = s.scrollHeight - s.scrollTop - s.clientHeight < slack;
    }, { passive: true });
  }

  // Call after adding to the scroller's content.
  follow() {
    if (this.atEnd) toScroll.add(this);
  }
}

export function scrollFollowers() {
  for (const f of toScroll) {
    f.scroller.scrollTop = f.scroller.scrollHeight;
    f.setTo = f.scroller.scrollTop;
  }
  toScroll.clear();
}
