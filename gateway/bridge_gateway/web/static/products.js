// The Products tab (product.md §3, §4, §7): Match by SKU, Preview and Reset all product relations as runs with
// live progress, the last product and stock sync, the product lines with search, status filter and paging, the
// per-line actions (unlink or relink, sync stock, export now) and each line's timeline. mount(panel) builds it
// the first time the tab is shown; refresh() reloads the table, keeping the search, the filter and the page.
import { api, ApiError, query } from "./api.js";
import { confirmDialog, emptyState, fill, h, notify, pager, showDetail, statusBadge, timeline, when } from "./ui.js";
import { progressView, startAndWatch, watchRun } from "./runs.js";

const PRODUCTS = "/api/v1/products";
const RUNS = "/api/v1/sync/runs";
const PAGE_SIZE = 50;
const SEARCH_DEBOUNCE_MS = 300;
const STATUSES = ["synced", "error", "pending", "unmatched", "ignored", "orphaned"];
const RELATED = new Set(["synced", "error", "pending"]); // with an article number: the line is related
// Runs whose end changes what the table shows.
const LINE_SCOPES = new Set(["products", "stock", "match", "reset"]);
const EMPTY_TEXT = "No products yet: connect Fortnox and run a sync.";
const NO_MATCH_TEXT = "No product lines match this search or status.";
const RESET_QUESTION =
  "Reset all product relations? Every product line loses its link to its Fortnox article, including lines you " +
  "unlinked by hand, and the next Match by SKU or product sync starts from scratch. Nothing is deleted in ikas " +
  "or Fortnox.";

const OPERATIONS = [
  { label: "Match by SKU", method: "POST", path: `${PRODUCTS}/match`, scope: "match" },
  { label: "Preview", method: "POST", path: `${PRODUCTS}/preview`, scope: "preview" },
  { label: "Reset all product relations", method: "DELETE", path: `${PRODUCTS}/relations`, scope: "reset",
    className: "danger", confirm: RESET_QUESTION },
];
const SCOPE_WORDS = { match: "Match by SKU", preview: "Preview", reset: "Reset", products: "Product sync",
  stock: "Stock sync" };

// The timeline's words (the catalog's steps and outcomes) as the merchant reads them.
const STEP_WORDS = {
  match: "Match by SKU", relink: "Relink", unlink: "Unlink", reset: "Reset all relations", product_sync: "Product sync",
  stock_sync: "Stock sync", export_now: "Export now", sync_stock_now: "Sync stock",
};
const OUTCOME_WORDS = {
  linked: "linked", unlinked: "unlinked", reset: "relation removed", created: "created", updated: "updated",
  unchanged: "unchanged", failed: "failed", orphaned: "orphaned", stock_written: "stock written",
};
const ACTION_WORDS = { create: "Create", update: "Update", skip: "Skip" };

const state = { page: 1, q: "", status: "" };
let view = null; // the tab's elements, once mounted
let loadSequence = 0; // answers to older requests are dropped
let searchTimer = null;

export function mount(panel) {
  const buttons = OPERATIONS.map((operation) => {
    const button = h("button", { type: "button", class: operation.className || undefined,
      onclick: () => runOperation(button, operation) }, operation.label);
    return button;
  });
  const lastProductSync = h("span", { class: "last-sync" }, "Last product sync: ", h("time", {}, "…"));
  const lastStockSync = h("span", { class: "last-sync" }, "Last stock sync: ", h("time", {}, "…"));

  const progressNote = h("div", { class: "run-note" });
  const progressRuns = h("div", { class: "run-views" });
  const hide = h("button", { type: "button", class: "hide-progress", hidden: true,
    "aria-label": "Hide the product run progress", onclick: hideProgress }, "Hide");
  const progress = h("section", { class: "card product-progress", role: "region",
    "aria-labelledby": "products-progress-title", hidden: true },
  h("div", { class: "card-head" }, h("h2", { id: "products-progress-title" }, "Product run progress"), hide),
  progressNote, progressRuns);
  const outcome = h("section", { class: "card product-outcome", "aria-labelledby": "products-outcome-title",
    hidden: true });

  const search = h("input", { type: "search", id: "products-search", autocomplete: "off",
    placeholder: "Name or SKU" });
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.q = search.value.trim(); state.page = 1; load(); }, SEARCH_DEBOUNCE_MS);
  });
  const status = h("select", { id: "products-status",
    onchange: () => { state.status = status.value; state.page = 1; load(); } },
  h("option", { value: "" }, "All"), STATUSES.map((name) => h("option", { value: name }, name)));
  const filters = h("div", { class: "toolbar products-filters" },
    h("label", { for: "products-search" }, "Search products"), search,
    h("label", { for: "products-status" }, "Status filter"), status);
  const results = h("div", { class: "products-results" });

  view = { panel, buttons, lastProductSync, lastStockSync, progress, progressNote, progressRuns, hide, outcome,
    search, status, results };
  fill(panel,
    h("div", { class: "toolbar" }, buttons),
    h("div", { class: "toolbar last-syncs" }, lastProductSync, lastStockSync),
    progress, outcome, filters, results);
  window.addEventListener("bridge:run-finished", (event) => {
    if (event.detail && LINE_SCOPES.has(event.detail.scope)) load();
  });
  load();
}

export function refresh() {
  if (view) load();
}

// ---- the list

async function load() {
  const sequence = ++loadSequence;
  const params = { page: state.page, page_size: PAGE_SIZE, q: state.q, status: state.status };
  view.results.setAttribute("aria-busy", "true");
  try {
    const answer = await api("GET", `${PRODUCTS}${query(params)}`);
    if (sequence !== loadSequence) return;
    render(answer);
  } catch (error) {
    if (sequence !== loadSequence) return;
    fill(view.results, emptyState(`The product lines could not be loaded: ${error.message}`));
    notify(error.message, { error: true });
  } finally {
    if (sequence === loadSequence) view.results.removeAttribute("aria-busy");
  }
}

function timeText(label, at) {
  return [`${label}: `, h("time", { datetime: at || undefined }, at ? when(at) : "never")];
}

function render(answer) {
  fill(view.lastProductSync, timeText("Last product sync", answer.last_product_sync_at));
  fill(view.lastStockSync, timeText("Last stock sync", answer.last_stock_sync_at));
  if (!answer.items.length) {
    if (!state.q && !state.status && answer.page === 1) {
      fill(view.results, emptyState(EMPTY_TEXT));
    } else {
      fill(view.results, emptyState(NO_MATCH_TEXT),
        h("button", { type: "button", onclick: clearFilters }, "Clear search and filter"));
    }
    return;
  }
  const headings = ["Product", "Variant", "SKU", "Fortnox article", "Status", "ikas stock", "Fortnox stock",
    "Last synced", "Actions"];
  fill(view.results,
    h("div", { class: "products-scroll" },
      h("table", { class: "table products-table" },
        h("caption", { class: "visually-hidden" }, "Product lines"),
        h("thead", {}, h("tr", {}, headings.map((name) => h("th", { scope: "col" }, name)))),
        h("tbody", {}, answer.items.map(lineRow)))),
    pager(answer, (next) => { state.page = next; load(); }, "Product lines"));
}

function clearFilters() {
  Object.assign(state, { page: 1, q: "", status: "" });
  view.search.value = "";
  view.status.value = "";
  load();
  view.search.focus();
}

// ---- one row

function lineTitle(line) {
  return line.variant_name ? `${line.name} (${line.variant_name})` : line.name;
}

function productLink(line) {
  if (!line.ikas_url) return h("strong", {}, line.name);
  return h("a", { href: line.ikas_url, target: "_blank", rel: "noopener" }, line.name);
}

function quantity(value) {
  return value === null || value === undefined ? h("span", { class: "muted" }, "–") : value;
}

function isRelated(line) {
  return Boolean(line.fortnox_article_number) && RELATED.has(line.status);
}

function lineRow(line) {
  return h("tr", { "data-line-id": line.id },
    h("td", {}, productLink(line)),
    h("td", {}, line.variant_name || h("span", { class: "muted" }, "–")),
    h("td", { class: "code" }, line.sku || h("span", { class: "muted" }, "no SKU")),
    h("td", { class: "code" }, line.fortnox_article_number || h("span", { class: "muted" }, "–")),
    h("td", {}, statusBadge(line.status, line.error)),
    h("td", { class: "number" }, quantity(line.ikas_stock)),
    h("td", { class: "number" }, quantity(line.fortnox_stock)),
    h("td", {}, line.last_synced_at
      ? h("time", { datetime: line.last_synced_at }, when(line.last_synced_at)) : h("span", { class: "muted" }, "never")),
    actionsCell(line));
}

/**
 * The per-line actions of product.md §3: Unlink for a related line, Relink for one without a relation (ignored,
 * orphaned, or unmatched with a SKU), Sync stock for a related line, Export now unless unlinked, and Timeline.
 * An action that does not apply is shown disabled, with the reason as its description.
 */
function actionsCell(line) {
  const path = `${PRODUCTS}/${encodeURIComponent(line.id)}`;
  const related = isRelated(line);
  const buttons = [];
  if (related) {
    buttons.push(actionButton(line, "Unlink", () => api("DELETE", `${path}/relation`),
      (updated) => `${lineTitle(updated)} is unlinked: it is not matched again automatically.`));
  } else {
    buttons.push(actionButton(line, "Relink", () => api("POST", `${path}/relation`),
      (updated) => `${lineTitle(updated)} is linked to the Fortnox article ${updated.fortnox_article_number}.`,
      relinkRefusal(line)));
  }
  buttons.push(actionButton(line, "Sync stock", () => api("POST", `${path}/sync-stock`),
    (updated) => `${lineTitle(updated)}: stock synced (ikas ${updated.ikas_stock ?? "–"}, Fortnox ` +
      `${updated.fortnox_stock ?? "–"}).`,
    related ? null : "Only a line linked to a Fortnox article has stock to sync."));
  buttons.push(actionButton(line, "Export now", () => api("POST", `${path}/export`),
    (updated) => `${lineTitle(updated)} is exported now.`,
    line.status === "ignored" ? "This line was unlinked by hand: relink it before exporting it." : null));
  const history = h("button", { type: "button", onclick: () => openTimeline(history, line) }, "Timeline");
  buttons.push(history);
  return h("td", {}, h("div", { class: "row-actions" }, buttons));
}

/** Why Relink does not apply: only an unlinked (ignored) or orphaned line with a SKU is linked again by hand. */
function relinkRefusal(line) {
  if (!line.sku) return "This ikas variant has no SKU, so there is no article number to link it to.";
  if (line.status === "unmatched") {
    return `Not linked yet: Match by SKU links it once Fortnox has one active article numbered ${line.sku} ` +
      "and no other ikas variant has this SKU.";
  }
  return null;
}

function actionButton(line, label, action, success, disabledReason) {
  if (disabledReason) {
    const id = `why-${Math.random().toString(36).slice(2)}`;
    return h("span", { class: "disabled-action" },
      h("button", { type: "button", disabled: true, title: disabledReason, "aria-describedby": id }, label),
      h("span", { class: "visually-hidden", id }, disabledReason));
  }
  const button = h("button", { type: "button", onclick: () => runAction(button, line, action, success) }, label);
  return button;
}

/** Puts the line's new row in place of its old one, keeping keyboard focus in the row. */
function replaceRow(line, focusLabel) {
  const old = view.results.querySelector(`tr[data-line-id="${CSS.escape(line.id)}"]`);
  if (!old) return;
  const row = lineRow(line);
  old.replaceWith(row);
  const buttons = [...row.querySelectorAll("button:not([disabled])")];
  // The same action when it is still offered, else its counterpart (Unlink <-> Relink), else the row's first one.
  const counterpart = { Unlink: "Relink", Relink: "Unlink" }[focusLabel];
  const target = buttons.find((b) => b.textContent === focusLabel) || buttons.find((b) => b.textContent === counterpart)
    || buttons[0];
  if (target) target.focus();
}

/**
 * Runs one row action with its button disabled. The answer is the updated line (Unlink answers 204, so the line
 * is read again), which replaces the row; when the request fails the error is shown and the row is read again,
 * since a failed export or stock write is recorded on the line.
 */
async function runAction(button, line, action, success) {
  const label = button.textContent;
  const path = `${PRODUCTS}/${encodeURIComponent(line.id)}`;
  button.disabled = true;
  try {
    const answer = (await action()) || (await api("GET", path));
    replaceRow(answer, label);
    if (answer.status === "error" && answer.error) notify(`${lineTitle(answer)}: ${answer.error.message}`, { error: true });
    else notify(success(answer));
  } catch (error) {
    notify(`${lineTitle(line)}: ${error.message}`, { error: true });
    try {
      replaceRow(await api("GET", path), label);
    } catch {
      // The error above is what the merchant needs to see; the row stays as it was.
    }
  } finally {
    button.disabled = false;
  }
}

function readableEntry(entry) {
  return { ...entry, step: STEP_WORDS[entry.step] || entry.step, outcome: OUTCOME_WORDS[entry.outcome] || entry.outcome };
}

/** The line's timeline in the detail dialog. The button is never disabled: the dialog gives focus back to it. */
async function openTimeline(button, line) {
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  try {
    const detail = await api("GET", `${PRODUCTS}/${encodeURIComponent(line.id)}`);
    showDetail(`${lineTitle(detail)}: timeline`,
      h("p", {}, statusBadge(detail.status, null),
        detail.fortnox_article_number ? ` Fortnox article ${detail.fortnox_article_number}` : " No Fortnox article"),
      detail.error
        ? h("p", { class: "warning" }, detail.error.message, detail.error.hint ? ` ${detail.error.hint}` : "")
        : null,
      h("div", { class: "timeline-scroll" }, timeline(detail.timeline.map(readableEntry))));
  } catch (error) {
    notify(`${lineTitle(line)}: ${error.message}`, { error: true });
  } finally {
    button.removeAttribute("aria-disabled");
  }
}

// ---- Match by SKU, Preview, Reset all product relations

function setOperationsDisabled(disabled) {
  for (const button of view.buttons) button.disabled = disabled;
  view.hide.hidden = disabled; // the progress can be hidden once the run is over
}

function hideProgress() {
  view.progress.hidden = true;
  view.outcome.hidden = true;
  view.buttons[0].focus();
}

/** Watches a run that was already going (a 409 named it) in the progress region; resolves to the finished run. */
function watchGoing(runId) {
  let shown = null;
  return watchRun(runId, (current) => {
    const next = progressView(current);
    if (shown) shown.replaceWith(next); else view.progressRuns.append(next);
    shown = next;
  });
}

/**
 * Starts the operation's run and shows its live progress; a run of that scope already going (409 with its
 * run_id) is watched instead, and the merchant is told so. When the run ends the table is reloaded (through
 * bridge:run-finished) and the run's outcome is shown: the planned actions of a preview, the report of a match.
 */
async function runOperation(button, operation) {
  if (operation.confirm && !(await confirmDialog(operation.confirm, "Reset relations"))) {
    button.focus();
    return;
  }
  const { progress, progressNote, progressRuns, outcome } = view;
  setOperationsDisabled(true);
  progress.hidden = false;
  fill(progressNote);
  fill(progressRuns);
  outcome.hidden = true; // an earlier run's outcome no longer says how things stand
  fill(outcome);
  try {
    let finished;
    try {
      const started = await startAndWatch(progressRuns, operation.method, operation.path);
      finished = await Promise.all(started.map((run) => api("GET", `${RUNS}/${encodeURIComponent(run.id)}`)));
    } catch (error) {
      const runId = error instanceof ApiError && error.status === 409 ? error.problem.run_id : undefined;
      if (!runId) throw error;
      const text = `A ${SCOPE_WORDS[operation.scope]} run was already going: showing its progress instead of ` +
        "starting another.";
      progressNote.append(h("p", {}, text));
      notify(text);
      finished = [await watchGoing(runId)];
    }
    for (const run of finished) showOutcome(run);
    const states = finished.map((run) => run.state.replace("_", " ")).join(", ");
    const failed = finished.some((run) => run.state === "failed" || run.state === "partially_failed");
    notify(`${operation.label}: ${states || "done"}.`, { error: failed });
  } catch (error) {
    notify(`${operation.label}: ${error.message}`, { error: true });
  } finally {
    setOperationsDisabled(false);
    button.focus();
  }
}

function showOutcome(run) {
  if (run.scope === "preview") showPreview(run);
  else if (run.scope === "match" && run.result && run.result.report) showMatchReport(run.result.report);
}

function showPreview(run) {
  const { outcome } = view;
  const planned = run.planned || [];
  const count = (action) => planned.filter((item) => item.action === action).length;
  const order = { create: 0, update: 1, skip: 2 };
  const sorted = [...planned].sort((a, b) => (order[a.action] ?? 3) - (order[b.action] ?? 3));
  const summary = planned.length
    ? `A product sync would create ${count("create")}, update ${count("update")} and skip ${count("skip")}. ` +
      "Nothing was written."
    : "A product sync would change nothing right now.";
  fill(outcome,
    h("h2", { id: "products-outcome-title" }, "Preview: what a product sync would do"),
    h("p", {}, summary),
    planned.length
      ? h("div", { class: "products-scroll preview-scroll" },
        h("table", { class: "table preview-table" },
          h("caption", { class: "visually-hidden" }, "Planned actions"),
          h("thead", {}, h("tr", {}, ["Action", "Entity", "Reason"].map((name) => h("th", { scope: "col" }, name)))),
          h("tbody", {}, sorted.map((item) => h("tr", { "data-action": item.action },
            h("td", {}, h("span", { class: `planned planned-${item.action}` }, ACTION_WORDS[item.action] || item.action)),
            h("td", { class: "code" }, item.entity),
            h("td", {}, item.reason))))))
      : null,
    run.errors && run.errors.length
      ? h("ul", { class: "run-errors" }, run.errors.map((e) => h("li", {}, e.entity ? `${e.entity}: ${e.message}` : e.message)))
      : null);
  outcome.hidden = false;
}

function listed(label, items) {
  if (!items || !items.length) return null;
  const shown = items.slice(0, 20).join(", ");
  return h("li", {}, `${label}: ${shown}${items.length > 20 ? ` and ${items.length - 20} more` : ""}`);
}

/** "1 variant", "2 variants". */
function counted(value, one, many) {
  const n = typeof value === "number" ? value : 0;
  return `${n} ${n === 1 ? one : many}`;
}

function showMatchReport(report) {
  const { outcome } = view;
  const n = (value) => (typeof value === "number" ? value : 0);
  const summary = `${n(report.matched)} newly linked, ${n(report.already_linked)} already linked, ` +
    `${counted(report.no_article, "SKU", "SKUs")} without a Fortnox article, ` +
    `${counted(report.without_sku, "variant", "variants")} without SKU, ` +
    `${counted((report.duplicate_skus || []).length, "duplicate SKU", "duplicate SKUs")}. ` +
    "Nothing was changed in ikas or Fortnox.";
  fill(outcome,
    h("h2", { id: "products-outcome-title" }, "Match by SKU: report"),
    h("p", {}, summary),
    h("details", {}, h("summary", {}, "The whole report"), h("ul", { class: "match-report" },
      h("li", {}, `Newly linked: ${n(report.matched)}`),
      h("li", {}, `Already linked: ${n(report.already_linked)}`),
      h("li", {}, `ikas variants without SKU: ${n(report.without_sku)}`),
      h("li", {}, `SKUs that cannot be Fortnox article numbers: ${n(report.illegal_skus)}`),
      h("li", {}, `SKUs without a Fortnox article: ${n(report.no_article)}`),
      listed("Duplicate SKUs in ikas (none of their variants is linked)", report.duplicate_skus),
      listed("Fortnox articles without an ikas variant", report.unmatched_articles))));
  outcome.hidden = false;
}
