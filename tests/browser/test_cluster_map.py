"""The cluster map, drawn from a recorded run of a 200-node cluster over three zones at the summary
level (10 Pods followed in full, the other bindings counted per node): every node a cell, grouped by zone,
the Pods per node adding up to the Deployment's replicas; hover and arrow keys give a node's details.
A three-node run keeps the map hidden (the diagram draws those nodes as boxes)."""
from __future__ import annotations

from tests.sim.helpers import fold, run_large, run_pod_create

PAGE = """<section id="cluster-map" hidden style="width:1200px"><div class="map-wrap"><canvas tabindex="0"></canvas>
<div class="map-tip" hidden></div></div><p class="map-words"></p></section>"""

DRAW = """async ([html, snapshot]) => {
  const link = document.createElement("link"); link.rel = "stylesheet"; link.href = "/static/css/dashboard.css";
  document.head.append(link);
  document.body.innerHTML = html;
  const { ClusterMap, podsPerNode } = await import("/static/js/clustermap.js");
  const map = new ClusterMap(document.getElementById("cluster-map"));
  map.render(snapshot);
  await new Promise((r) => setTimeout(r, 400));
  const cv = document.querySelector("canvas");
  const out = { hidden: map.root.hidden, cells: cv.dataset.cells, pods: cv.dataset.pods, zones: cv.dataset.zones,
                words: document.querySelector(".map-words").textContent, per: podsPerNode(snapshot) };
  if (!map.root.hidden) {
    const c = map.cells[5];
    cv.dispatchEvent(new MouseEvent("mousemove", { clientX: cv.getBoundingClientRect().left + c.x + 1,
                                                   clientY: cv.getBoundingClientRect().top + c.y + 1 }));
    out.hovered = [c.name, document.querySelector(".map-tip").textContent, document.querySelector(".map-tip").hidden];
    cv.focus();
    cv.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    out.keyed = document.querySelector(".map-tip").dataset.node;
    out.first = map.cells[0].name;
    // A painted cell is not blank: the canvas holds the heat map.
    const px = cv.getContext("2d").getImageData(Math.round((c.x + 1) * devicePixelRatio), Math.round((c.y + 1) * devicePixelRatio), 1, 1).data;
    out.pixel = [...px];
  }
  return out;
}"""


def test_large_cluster_is_drawn_as_a_map_grouped_by_zone(js):
    st = fold(run_large())
    out = js.evaluate(DRAW, [PAGE, st])
    assert out["hidden"] is False
    assert out["cells"] == "200" and out["zones"] == "3"
    assert out["pods"] == "600" and sum(out["per"].values()) == 600
    assert "200 nodes in 3 zones; 600 Pods bound" in out["words"]
    name, tip, tip_hidden = out["hovered"]
    assert not tip_hidden and tip.startswith(f"{name} (region-1") and "of 110 Pods" in tip
    assert out["keyed"] == out["first"]
    assert out["pixel"][3] == 255 and out["pixel"][:3] != [255, 255, 255]


def test_a_three_node_run_needs_no_map(js):
    out = js.evaluate(DRAW, [PAGE, fold(run_pod_create(1))])
    assert out["hidden"] is True
