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
