// Runs (product.md §6): live progress of one run, and the run history with counts and errors.
import { api, query } from "./api.js";
import { emptyState, fill, h, pager, when } from "./ui.js";

const POLL_MS = 1000;
const UNFINISHED = new Set(["queued", "running"]);

/** Polls a run until it finishes, calling onUpdate(run) on every answer; resolves to the finished run. */
export async function watchRun(runId, onUpdate) {
  for (;;) {
    const run = await api("GET", `/api/v1/sync/runs/${encodeURIComponent(runId)}`);
    onUpdate(run);
    if (!UNFINISHED.has(run.state)) {
      window.dispatchEvent(new CustomEvent("bridge:run-finished", { detail: run }));
      return run;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function countsText(counts) {
  return `${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.failed} failed`;
}

/** A run's progress: scope and state, a progress bar (indeterminate while the total is unknown), counts. */
export function progressView(run) {
  const { done, total } = run.progress;
  const bar = h("progress", { max: total || undefined, value: total ? done : undefined,
    "aria-label": `${run.scope} progress` });
  // A finished run is full, also when its total stayed unknown or was 0 (nothing to do).
  if (!UNFINISHED.has(run.state) && !total) { bar.max = 1; bar.value = 1; }
  return h("div", { class: `run run-${run.state}`, "data-run-id": run.id, "data-state": run.state },
    h("div", { class: "run-head" }, h("strong", {}, run.scope), " ", h("span", { class: "run-state" }, run.state),
      " ", h("span", { class: "run-done" }, total ? `${done} of ${total}` : `${done} done`)),
    bar,
    h("div", { class: "run-counts" }, countsText(run.counts)),
    run.errors && run.errors.length
      ? h("ul", { class: "run-errors" }, run.errors.slice(0, 10).map((e) => h("li", {}, e.message))) : null);
}

/** Starts runs (POST /api/v1/sync or another run-starting path) and shows each one's progress in `target`. */
export async function startAndWatch(target, method, path, body) {
  const started = await api(method, path, body);
  const views = new Map();
  fill(target);
  await Promise.all(started.runs.map((run) => watchRun(run.id, (current) => {
    const view = progressView(current);
    if (views.has(run.id)) views.get(run.id).replaceWith(view); else target.append(view);
    views.set(run.id, view);
  })));
  return started.runs;
}

/** The run history table (all scopes, newest first), refreshed whenever a run finishes. */
export function mountRunHistory(section) {
  let page = 1;
  const body = h("div", { class: "run-history-body" });
  fill(section, h("h2", {}, "Run history"), body);
  async function load() {
    try {
      const answer = await api("GET", `/api/v1/sync/runs${query({ page, page_size: 10 })}`);
      if (!answer.items.length) { fill(body, emptyState("No runs yet: connect Fortnox and run a sync.")); return; }
      fill(body,
        h("table", { class: "table" },
          h("caption", { class: "visually-hidden" }, "Runs, newest first"),
          h("thead", {}, h("tr", {}, ["Scope", "Trigger", "State", "Started", "Finished", "Counts", "Errors"]
            .map((name) => h("th", { scope: "col" }, name)))),
          h("tbody", {}, answer.items.map((run) => h("tr", { "data-run-id": run.id },
            h("td", {}, run.scope), h("td", {}, run.trigger), h("td", {}, run.state),
            h("td", {}, when(run.started_at)), h("td", {}, when(run.finished_at)),
            h("td", {}, countsText(run.counts)),
            h("td", {}, run.errors.length
              ? h("details", {}, h("summary", {}, `${run.errors.length} error(s)`),
                h("ul", {}, run.errors.map((e) => h("li", {}, e.message))))
              : "none"))))),
        pager(answer, (next) => { page = next; load(); }, "Run history"));
    } catch (error) {
      fill(body, emptyState(error.message));
    }
  }
  window.addEventListener("bridge:run-finished", load);
  load();
}
