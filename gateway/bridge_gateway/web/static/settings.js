// The Settings tab (product.md §7). mount(panel) builds it the first time the tab is shown; refresh() reloads it.
import { fill, emptyState } from "./ui.js";

export function mount(panel) {
  fill(panel, emptyState("Loading…"));
}

export function refresh() {}
