// The Orders tab (product.md §5, §7): "Start synchronisation now" with live progress, the orders table with its
// filters and paging, and the per-order actions. mount(panel) builds it the first time the tab is shown;
// refresh() reloads the table, keeping the filters and the page.
import { api, ApiError, download, query } from "./api.js";
import {
  attachTip, emptyState, fill, h, money, notify, pager, showDetail, statusBadge, timeline, when,
} from "./ui.js";
import { progressView, startAndWatch, watchRun } from "./runs.js";

const ORDERS = "/api/v1/orders";
const PAGE_SIZE = 50;
const SEARCH_DEBOUNCE_MS = 300;
const SYNC_SCOPES = ["products", "stock", "orders"];
// Runs whose end changes what the table shows.
const ORDER_SCOPES = new Set(["orders", "backfill"]);
const STATUSES = ["error", "fulfilled", "created", "outgoing"];

const FORTNOX_STATE_WORDS = {
  order: "Order",
  invoiced: "Invoiced",
  paid: "Paid",
  cancelled: "Cancelled",
  credited: "Credited",
  partially_credited: "Partially credited",
};
const EMAIL_UNKNOWN_HINT =
  "Bridge asked Fortnox to e-mail the invoice but never got an answer, so it may or may not have been sent. " +
  "Bridge does not ask again by itself: check in Fortnox, and use Resend e-mail if it was not sent.";
const TOTALS_DIFFER_DEFAULT = "Fortnox's total differs from the ikas total by 0.01 or more.";
const EDITED_DEFAULT = "The ikas order changed after the Fortnox invoice was made; the invoice was not changed.";
const EMPTY_TEXT = "No orders yet: connect Fortnox, choose your order settings and run a sync.";
const NO_MATCH_TEXT = "No orders match these filters.";

const state = { page: 1, q: "", status: "", from: "", to: "" };
let view = null; // the tab's elements, once mounted
let loadSequence = 0; // answers to older requests are dropped
let searchTimer = null;

export function mount(panel) {
  const syncButton = h("button", { type: "button", class: "primary", onclick: () => startSync(syncButton) },
    "Start synchronisation now");
  const lastSync = h("span", { class: "orders-last-sync" }, "Last order sync: ", h("time", {}, "…"));
  const progressTitle = h("h2", { id: "orders-sync-title" }, "Synchronisation progress");
  const progressNote = h("div", { class: "sync-note" });
  const goingRuns = h("div", { class: "sync-going" });
  const startedRuns = h("div", { class: "sync-started" });
  const progress = h("section", { role: "region", "aria-labelledby": "orders-sync-title", class: "card sync-progress",
    hidden: true }, progressTitle, progressNote, goingRuns, startedRuns);

  const search = h("input", { type: "search", id: "orders-search", autocomplete: "off",
    placeholder: "Number, name or e-mail" });
  const searchNow = () => {
    clearTimeout(searchTimer);
    if (search.value.trim() === state.q) return;
    state.q = search.value.trim();
    state.page = 1;
    load();
  };
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(searchNow, SEARCH_DEBOUNCE_MS);
  });
  search.addEventListener("keydown", (event) => { if (event.key === "Enter") searchNow(); }); // no need to wait
  const status = h("select", { id: "orders-status",
    onchange: () => { state.status = status.value; state.page = 1; load(); } },
    h("option", { value: "" }, "All"), STATUSES.map((name) => h("option", { value: name }, name)));
  const rangeError = h("span", { id: "orders-range-error", class: "field-error", hidden: true });
  const from = h("input", { type: "date", id: "orders-from" });
  const to = h("input", { type: "date", id: "orders-to" });
  for (const input of [from, to]) {
    input.addEventListener("change", () => { state.from = from.value; state.to = to.value; state.page = 1; load(); });
  }

  const filters = h("div", { class: "toolbar orders-filters" },
    h("label", { for: "orders-search" }, "Search orders"), search,
    h("label", { for: "orders-status" }, "Status filter"), status,
    h("label", { for: "orders-from" }, "Ordered from"), from,
    h("label", { for: "orders-to" }, "Ordered to"), to,
    rangeError);
  const results = h("div", { class: "orders-results" });

  view = { panel, syncButton, lastSync, progress, progressNote, goingRuns, startedRuns, search, status, from, to,
    rangeError, results };
  fill(panel, h("div", { class: "toolbar" }, syncButton, lastSync), progress, filters, results);
  window.addEventListener("bridge:run-finished", (event) => {
    if (event.detail && ORDER_SCOPES.has(event.detail.scope)) load();
  });
  load();
}

export function refresh() {
  if (view) load();
}

// ---- the list

/** A date input's day as an RFC 3339 local midnight with the browser's offset, `days` later. */
function localMidnight(day, days = 0) {
  const [year, month, date] = day.split("-").map(Number);
  const at = new Date(year, month - 1, date + days); // a nonexistent midnight (DST) moves to the first hour
  const pad = (n) => String(n).padStart(2, "0");
  const offset = -at.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:` +
    `${pad(at.getMinutes())}:00${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

function isFiltered() {
  return Boolean(state.q || state.status || state.from || state.to);
}

function showRangeError(message) {
  const { rangeError, to } = view;
  rangeError.hidden = !message;
  rangeError.textContent = message || "";
  if (message) {
    to.setAttribute("aria-invalid", "true");
    to.setAttribute("aria-describedby", rangeError.id);
  } else {
    to.removeAttribute("aria-invalid");
    to.removeAttribute("aria-describedby");
  }
}

async function load() {
  const sequence = ++loadSequence;
  const params = {
    page: state.page,
    page_size: PAGE_SIZE,
    q: state.q,
    status: state.status,
    // "to" is the exclusive end of the chosen day: the next day's local midnight.
    ordered_from: state.from ? localMidnight(state.from) : "",
    ordered_to: state.to ? localMidnight(state.to, 1) : "",
  };
  if (state.from && state.to && state.from > state.to) {
    showRangeError("Ordered to must not be before Ordered from.");
    fill(view.results, emptyState("Choose an Ordered to date on or after the Ordered from date."));
    view.results.removeAttribute("aria-busy");
    return;
  }
  showRangeError("");
  view.results.setAttribute("aria-busy", "true");
  try {
    const answer = await api("GET", `${ORDERS}${query(params)}`);
    if (sequence !== loadSequence) return;
    render(answer);
  } catch (error) {
    if (sequence !== loadSequence) return;
    const fieldError = error instanceof ApiError && error.fieldErrors.find((e) => e.field.includes("ordered_"));
    if (fieldError) showRangeError(fieldError.message);
    fill(view.results, emptyState(`The orders could not be loaded: ${error.message}`));
    notify(error.message, { error: true });
  } finally {
    if (sequence === loadSequence) view.results.removeAttribute("aria-busy");
  }
}

function render(answer) {
  const at = answer.last_order_sync_at;
  fill(view.lastSync, "Last order sync: ",
    h("time", { datetime: at || undefined }, at ? when(at) : "never"));
  if (!answer.items.length) {
    if (!isFiltered() && answer.page === 1) {
      fill(view.results, emptyState(EMPTY_TEXT));
    } else {
      fill(view.results, emptyState(NO_MATCH_TEXT),
        h("button", { type: "button", onclick: clearFilters }, "Clear filters"));
    }
    return;
  }
  const headings = ["Order", "Ordered", "Customer", "Status", "Fortnox", "Fortnox state", "E-mail", "Totals",
    "Actions"];
  fill(view.results,
    h("div", { class: "orders-scroll" },
      h("table", { class: "table orders-table" },
        h("caption", { class: "visually-hidden" }, "Orders"),
        h("thead", {}, h("tr", {}, headings.map((name) => h("th", { scope: "col" }, name)))),
        h("tbody", {}, answer.items.map(orderRow)))),
    pager(answer, (next) => { state.page = next; load(); }, "Orders"));
}

function clearFilters() {
  Object.assign(state, { page: 1, q: "", status: "", from: "", to: "" });
  view.search.value = "";
  view.status.value = "";
  view.from.value = "";
  view.to.value = "";
  load();
  view.search.focus();
}

// ---- one row

/** Text with an explanation shown on hover and on keyboard focus, like statusBadge's error details. */
function withTip(text, explanation, className) {
  return attachTip(h("span", { class: `order-tip ${className}` }, text), explanation);
}

function orderLink(order) {
  if (!order.ikas_url) return h("strong", {}, order.ikas_order_number);
  return h("a", { href: order.ikas_url, target: "_blank", rel: "noopener" }, order.ikas_order_number);
}

function customerCell(customer) {
  if (!customer.name && !customer.email) return h("td", { class: "muted" }, "–");
  return h("td", {}, customer.name ? h("div", {}, customer.name) : null,
    customer.email ? h("div", { class: "muted" }, customer.email) : null);
}

function statusCell(order) {
  return h("td", {}, statusBadge(order.status, order.error),
    order.status === "outgoing" && order.waiting_reason
      ? h("div", { class: "muted waiting-reason" }, order.waiting_reason) : null);
}

function fortnoxCell(order) {
  if (!order.fortnox_order_number) return h("td", { class: "muted" }, "Not in Fortnox");
  return h("td", {},
    h("div", {}, `Order ${order.fortnox_order_number}`),
    h("div", { class: "nowrap" }, `Total ${money(order.fortnox_total)}`),
    order.fortnox_invoice_number ? h("div", {}, `Invoice ${order.fortnox_invoice_number}`) : null,
    order.invoice_attached_at
      ? h("div", { class: "muted" }, "PDF attached ", h("time", { datetime: order.invoice_attached_at },
        when(order.invoice_attached_at)))
      : null);
}

function emailCell(email) {
  if (email.state === "sent") {
    return h("td", {}, "Sent", email.at ? [" ", h("time", { datetime: email.at }, when(email.at))] : null);
  }
  if (email.state === "unknown") return h("td", {}, withTip("Unknown", EMAIL_UNKNOWN_HINT, "email-unknown"));
  return h("td", { class: "muted" }, "Not requested");
}

function totalsCell(order) {
  return h("td", {},
    h("div", { class: "nowrap" }, `ikas ${money(order.ikas_total)}`),
    order.totals_match === false
      ? h("div", {}, withTip("Totals differ", order.totals_explanation || TOTALS_DIFFER_DEFAULT, "warning"))
      : null,
    order.edited_after_invoice
      ? h("div", {}, withTip("Edited after invoice", order.edit_advice || EDITED_DEFAULT, "warning"))
      : null);
}

/** The actions that make sense in the order's state (product.md §5 "Actions"), and its timeline. */
function actionsCell(order) {
  const path = `${ORDERS}/${encodeURIComponent(order.id)}`;
  const inFortnox = Boolean(order.fortnox_order_number);
  const invoice = order.fortnox_invoice_number;
  const closed = order.fortnox_state === "cancelled";
  const buttons = [];
  if (!inFortnox) buttons.push(actionButton(order, "Send", `${path}/send`, sentOutcome));
  if (inFortnox && !invoice && !closed) {
    buttons.push(actionButton(order, "Create invoice", `${path}/invoice`, invoicedOutcome));
  }
  if (invoice && !order.invoice_attached_at) {
    buttons.push(actionButton(order, "Attach PDF", `${path}/invoice/attach`, attachedOutcome));
  }
  if (invoice) {
    buttons.push(actionButton(order, "Resend e-mail", `${path}/invoice/email`, emailedOutcome));
    const pdf = h("button", { type: "button", onclick: () => runAction(pdf, order, () =>
      download(`${path}/invoice.pdf`, `invoice-${invoice}.pdf`), null) }, "Download PDF");
    buttons.push(pdf);
  }
  const history = h("button", { type: "button",
    onclick: () => runAction(history, order, () => showTimeline(path), null) }, "Timeline");
  buttons.push(history);
  return h("td", {}, h("div", { class: "row-actions" }, buttons));
}

function actionButton(order, label, path, outcome) {
  const button = h("button", { type: "button",
    onclick: () => runAction(button, order, () => api("POST", path), outcome) }, label);
  return button;
}

// What an action came to, read from the updated order: an action answers 200 even when the order still waits
// (for product relations, say), so the merchant is told what happened, not merely that the request went through.
function notDone(order, what) {
  const why = (order.error && order.error.message) || order.waiting_reason;
  return { text: `Order ${order.ikas_order_number}: ${what}${why ? `: ${why}` : "."}`, error: true };
}

function sentOutcome(order) {
  if (!order.fortnox_order_number) return notDone(order, "not sent to Fortnox");
  return { text: `Order ${order.ikas_order_number} is in Fortnox as order ${order.fortnox_order_number}.` };
}

function invoicedOutcome(order) {
  if (!order.fortnox_invoice_number) return notDone(order, "no invoice was created");
  return { text: `Order ${order.ikas_order_number}: invoice ${order.fortnox_invoice_number} created.` };
}

function attachedOutcome(order) {
  if (!order.invoice_attached_at) return notDone(order, "the invoice PDF was not attached");
  return { text: `Order ${order.ikas_order_number}: the invoice PDF is attached to the ikas order.` };
}

function emailedOutcome(order) {
  const email = order.invoice_email;
  if (email.state === "unknown") {
    return { text: `Order ${order.ikas_order_number}: Fortnox did not confirm the e-mail. ${EMAIL_UNKNOWN_HINT}`,
      error: true };
  }
  if (email.state !== "sent") return notDone(order, "the invoice e-mail was not requested");
  const number = order.fortnox_invoice_number;
  return { text: `Order ${order.ikas_order_number}: Fortnox was asked to e-mail invoice ${number}.` };
}

function orderRow(order) {
  return h("tr", { "data-order-id": order.id },
    h("td", {}, orderLink(order)),
    h("td", {}, order.ordered_at ? h("time", { datetime: order.ordered_at }, when(order.ordered_at)) : "–"),
    customerCell(order.customer),
    statusCell(order),
    fortnoxCell(order),
    h("td", {}, order.fortnox_state ? FORTNOX_STATE_WORDS[order.fortnox_state] || order.fortnox_state
      : h("span", { class: "muted" }, "–")),
    emailCell(order.invoice_email),
    totalsCell(order),
    actionsCell(order));
}

/** Puts the order's new row in place of its old one, keeping keyboard focus in the row. */
function replaceRow(order, focusLabel) {
  const old = view.results.querySelector(`tr[data-order-id="${CSS.escape(order.id)}"]`);
  if (!old) return;
  const row = orderRow(order);
  old.replaceWith(row);
  const buttons = [...row.querySelectorAll("button")];
  // The same action when it is still offered, else the row's first one (the next step, or Timeline).
  const target = buttons.find((b) => b.textContent === focusLabel && !b.disabled) || buttons[0];
  if (target) target.focus();
}

/**
 * Runs one row action with its button disabled. A POST answers the updated order, which replaces the row, and
 * `outcome(order)` says what came of it; when the request fails the error is shown and the row is read again,
 * since a failed attempt is recorded on the order.
 */
async function runAction(button, order, action, outcome) {
  if (button.getAttribute("aria-disabled") === "true") return;
  const label = button.textContent;
  // A button whose row is replaced is disabled meanwhile; the others (Timeline, Download PDF) only refuse a
  // second click, as a disabled button loses keyboard focus and the dialog would then give it back to nothing.
  if (outcome) button.disabled = true;
  else button.setAttribute("aria-disabled", "true");
  try {
    const answer = await action();
    if (outcome && answer && answer.id) {
      replaceRow(answer, label);
      const { text, error } = outcome(answer);
      notify(text, { error: Boolean(error) });
    }
  } catch (error) {
    notify(error.message, { error: true });
    if (outcome) {
      try {
        replaceRow(await api("GET", `${ORDERS}/${encodeURIComponent(order.id)}`), label);
      } catch {
        // The error above is what the merchant needs to see; the row stays as it was.
      }
    }
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-disabled");
  }
}

async function showTimeline(path) {
  const order = await api("GET", path);
  showDetail(`Order ${order.ikas_order_number}: timeline`,
    order.error
      ? h("p", { class: "warning" }, order.error.message, order.error.hint ? ` ${order.error.hint}` : "")
      : null,
    timeline(order.timeline));
}

// ---- "Start synchronisation now"

function watchInto(target, run) {
  let shown = progressView(run);
  target.append(shown);
  return watchRun(run.id, (current) => {
    const next = progressView(current);
    shown.replaceWith(next);
    shown = next;
  });
}

/**
 * Starts products, stock and orders runs and shows each one's live progress. A scope that is already going answers
 * 409 with its run and starts nothing: that run is watched instead, and the other scopes are asked for again.
 */
async function startSync(button) {
  const { progress, progressNote, goingRuns, startedRuns } = view;
  button.disabled = true;
  progress.hidden = false;
  fill(progressNote);
  fill(goingRuns);
  fill(startedRuns);
  const finished = new Map();
  const onFinished = (event) => { if (event.detail) finished.set(event.detail.id, event.detail); };
  window.addEventListener("bridge:run-finished", onFinished);
  const watching = [];
  let scopes = [...SYNC_SCOPES];
  try {
    while (scopes.length) {
      try {
        watching.push(startAndWatch(startedRuns, "POST", "/api/v1/sync", { scopes }));
        await watching[watching.length - 1];
        break;
      } catch (error) {
        watching.pop();
        const runId = error instanceof ApiError && error.status === 409 ? error.problem.run_id : undefined;
        if (!runId) throw error;
        const going = await api("GET", `/api/v1/sync/runs/${encodeURIComponent(runId)}`);
        const text = `A ${going.scope} run was already going: showing its progress instead of starting another.`;
        progressNote.append(h("p", {}, text));
        notify(text);
        watching.push(watchInto(goingRuns, going));
        const rest = scopes.filter((scope) => scope !== going.scope);
        if (rest.length === scopes.length) break; // not one of ours: ask no more
        scopes = rest;
      }
    }
    await Promise.all(watching);
    const results = [...finished.values()].map((run) => `${run.scope} ${run.state.replace("_", " ")}`);
    notify(results.length ? `Synchronisation finished: ${results.join(", ")}.` : "Synchronisation finished.");
  } catch (error) {
    notify(error.message, { error: true });
  } finally {
    window.removeEventListener("bridge:run-finished", onFinished);
    button.disabled = false;
  }
}
