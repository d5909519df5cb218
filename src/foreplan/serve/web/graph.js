// The plan as an SVG graph, laid out here (no library): one column per dependency
// depth, one node per step (`#E1 search_wiki`), an arrow for each `#E` reference.
//
//   depth 0        depth 1        depth 2
//   [#E1 a] ─────► [#E3 c] ─────► [#E4 d]
//   [#E2 b] ──────────────────────┘

const SVG = "http://www.w3.org/2000/svg";
export const NODE = { w: 180, h: 52, colGap: 70, rowGap: 22, pad: 16 };

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

/** Step id → {x, y, depth}; a step sits one column right of its deepest dependency. */
export function layout(plan) {
  const byId = new Map(plan.map((s) => [s.id, s]));
  const depth = new Map();
  const depthOf = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id) || !byId.has(id)) return -1; // a cycle or unknown id: the validator refuses both
    seen.add(id);
    const deps = byId.get(id).depends_on || [];
    const d = 1 + Math.max(-1, ...deps.map((dep) => depthOf(dep, seen)));
    depth.set(id, d);
    return d;
  };
  const columns = [];
  for (const step of plan) {
    const d = depthOf(step.id);
    (columns[d] = columns[d] || []).push(step.id);
  }
  const rows = Math.max(1, ...columns.map((c) => (c ? c.length : 0)));
  const height = NODE.pad * 2 + rows * NODE.h + (rows - 1) * NODE.rowGap;
  const where = new Map();
  columns.forEach((ids, d) => {
    const used = ids.length * NODE.h + (ids.length - 1) * NODE.rowGap;
    ids.forEach((id, i) => where.set(id, {
      x: NODE.pad + d * (NODE.w + NODE.colGap),
      y: (height - used) / 2 + i * (NODE.h + NODE.rowGap),
      depth: d,
    }));
  });
  const width = NODE.pad * 2 + columns.length * NODE.w + Math.max(0, columns.length - 1) * NODE.colGap;
  return { where, width, height };
}

function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Draw ``plan`` into ``svg``; returns step id → {group, status} for live updates. */
export function drawGraph(svg, plan, onSelect) {
  svg.replaceChildren();
  const { where, width, height } = layout(plan);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  const defs = el("defs", {}, svg);
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
    markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" }, defs);
  el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);

  const edges = el("g", { class: "edges" }, svg);
  for (const step of plan) {
    const to = where.get(step.id);
    for (const dep of step.depends_on || []) {
      const from = where.get(dep);
      if (!from || !to) continue;
      const x1 = from.x + NODE.w, y1 = from.y + NODE.h / 2, x2 = to.x - 2, y2 = to.y + NODE.h / 2;
      const mid = (x1 + x2) / 2;
      el("path", { class: "edge", "data-from": dep, "data-to": step.id, "marker-end": "url(#arrow)",
        d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` }, edges);
    }
  }

  const nodes = new Map();
  for (const step of plan) {
    const at = where.get(step.id);
    const group = el("g", { class: "node", "data-step": step.id, "data-state": "waiting", tabindex: 0,
      role: "button", transform: `translate(${at.x},${at.y})` }, svg);
    el("title", {}, group).textContent = `${step.plan}\n#${step.id} = ${step.tool}[${step.input}]`;
    el("rect", { width: NODE.w, height: NODE.h, rx: 8 }, group);
    el("text", { x: 12, y: 21, class: "title" }, group).textContent = clip(`#${step.id} ${step.tool}`, 22);
    const status = el("text", { x: 12, y: 40, class: "status" }, group);
    status.textContent = "waiting";
    group.addEventListener("click", () => onSelect(step.id));
    group.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") onSelect(step.id); });
    nodes.set(step.id, { group, status });
  }
  return nodes;
}
