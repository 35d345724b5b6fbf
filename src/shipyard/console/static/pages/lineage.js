// Lineage graphs from the API ({nodes: [{id, kind, label}], edges: [[from, to]]}) as DAG
// input, each node linking to its own page.

import { route } from "../dom.js";

function splitRef(ref) {
  const at = ref.lastIndexOf("@");
  return at < 0 ? [ref, ""] : [ref.slice(0, at), ref.slice(at + 1)];
}

export function hrefFor(kind, key) {
  if (kind === "dataset") {
    const [name, version] = splitRef(key);
    return route("datasets", name) + (version ? `?version=${encodeURIComponent(version)}` : "");
  }
  if (kind === "model") {
    const [name, version] = splitRef(key);
    return version ? route("models", name, "versions", version) : route("models", name);
  }
  if (kind === "run") return route("runs", key);
  if (kind === "endpoint") return route("endpoints", key);
  if (kind === "pipeline") return route("pipelines", key);
  return null;
}

/** [nodes, edges] for charts.dag from an API lineage graph; ``current`` is highlighted. */
export function lineageNodes(graph, current, extra = { nodes: [], edges: [] }) {
  const nodes = [...graph.nodes, ...extra.nodes].map((node) => {
    const colon = node.id.indexOf(":");
    const key = colon < 0 ? node.id : node.id.slice(colon + 1);
    return {
      id: node.id,
      kind: node.kind,
      label: node.label || key,
      href: node.href || hrefFor(node.kind, key),
      current: node.id === current,
    };
  });
  const edges = [...graph.edges, ...extra.edges].map((edge) =>
    Array.isArray(edge) ? { from: edge[0], to: edge[1] } : edge,
  );
  return [nodes, edges];
}
