// The Settings tab (product.md §1.3-1.7, §2, §7): the connection card (the ikas store, the Fortnox company,
// Authorize with Fortnox / Disconnect from Fortnox) and the settings document as one form, saved whole with
// PUT /api/v1/settings. mount(panel) builds it the first time the tab is shown; refresh() reloads it (the form
// only while it holds no unsaved changes, so switching tabs never throws the merchant's edits away).
import { api } from "./api.js";
import { busy, confirmDialog, emptyState, fill, h, notify, when } from "./ui.js";

const CONNECTION = "/api/v1/connection";
const SETTINGS = "/api/v1/settings";
const LOCATIONS = "/api/v1/stock-locations";
// What the Fortnox callback page (web/oauth.py) posts to the window that opened it.
const AUTHORIZED_MESSAGE = "bridge:fortnox-authorized";
const POPUP_NAME = "fortnox-authorize";
const POPUP_FEATURES = "popup,width=640,height=760";
const POPUP_POLL_MS = 500;
const STATUS_TEXT = {
  connected: "connected",
  disconnected: "not connected",
  needs_reauth: "needs to be authorized again",
};

// Codes of an entry's error that concern its key (the VAT rate, the payment method); the others its value.
const KEY_ERRORS = new Set(["invalid_vat_rate", "duplicate_vat_rate", "invalid_payment_method"]);

const yes = (value) => (value === true ? "yes" : value === false ? "no" : "not known");

// ---- the settings document's fields (product.md §2), in its order, with the contract's labels

const FIELDSETS = [
  { name: "products", legend: "Products", fields: [
    { key: "sync_mode", label: "Sync mode", kind: "choice",
      choices: [["fortnox_to_ikas", "Fortnox to ikas"], ["ikas_to_fortnox", "ikas to Fortnox (experimental)"]],
      help: "Which way products and stock flow: from Fortnox articles to ikas products, or from ikas products "
        + "to Fortnox articles." },
    { key: "sync_automatically", label: "Sync products automatically", kind: "bool",
      help: "Include products in the scheduled syncs." },
    { key: "create_new", label: "Create new products", kind: "bool",
      help: "Create products that exist only on the source side in the target." },
    { key: "update_existing", label: "Update existing products", kind: "bool",
      help: "Update the mapped fields of related products in the target when the source changed, never "
        + "creating duplicates." },
  ] },
  { name: "stock", legend: "Stock", fields: [
    { key: "sync_automatically", label: "Sync stock automatically", kind: "bool",
      help: "Include the stock of related products in the scheduled syncs." },
    { key: "ikas_stock_location_id", label: "ikas stock location", kind: "location",
      help: "The ikas stock location that receives the Fortnox stock. Stock is written to ikas only once one "
        + "is chosen." },
    { key: "fortnox_stock_point", label: "Fortnox stock point", kind: "text",
      help: "With the Fortnox warehouse module: the stock point to read and write. Empty: the stock of all "
        + "stock points added up." },
  ] },
  { name: "orders", legend: "Orders", fields: [
    { key: "sync_automatically", label: "Sync orders automatically", kind: "bool",
      help: "Include orders in the scheduled syncs and send new or changed ikas orders as they come in." },
    { key: "sync_from", label: "Sync orders placed from", kind: "datetime",
      help: "Orders placed before this moment (your browser's time) are never sent automatically. Empty: "
        + "Bridge sets it to the moment you first save with automatic order sync on." },
    { key: "create_orders", label: "Create Fortnox orders automatically", kind: "bool",
      help: "Create a Fortnox order for every new ikas order. Off: new orders wait as outgoing until you "
        + "send them by hand." },
    { key: "create_invoice", label: "Create the invoice", kind: "bool",
      help: "Create the Fortnox invoice from the Fortnox order right after the order is created." },
    { key: "sync_items_without_relation", label: "Send orders with lines without a product relation",
      kind: "bool",
      help: "On: such lines go to Fortnox as free-text rows. Off: an order is sent only once every line has "
        + "a product relation; until then it waits as outgoing, naming the SKUs." },
    { key: "send_invoice_email", label: "E-mail the invoice", kind: "bool",
      help: "Ask Fortnox to e-mail the invoice to the customer once it exists (once per invoice)." },
    { key: "unit_source", label: "Row unit from", kind: "choice",
      choices: [["base_unit", "The product's base unit"], ["attribute", "An ikas attribute"]],
      help: "For products sold by base (unit) price: the row unit is the product's base unit (kg, ml, …) or "
        + "the value of the attribute named below." },
    { key: "unit_attribute", label: "Unit attribute", kind: "text",
      help: "The ikas attribute holding the unit, looked up on the variant, then on the product. Needed when "
        + "the row unit comes from an ikas attribute." },
    { key: "language", label: "Document language", kind: "choice",
      choices: [["always_en", "Always English"], ["always_sv", "Always Swedish"],
        ["customer_else_en", "The customer's language, otherwise English"],
        ["customer_else_sv", "The customer's language, otherwise Swedish"]],
      help: "The language of the Fortnox documents. The customer's language counts when it is English or "
        + "Swedish." },
    { key: "shipping", label: "Shipping as", kind: "choice",
      choices: [["freight", "The Fortnox freight field"], ["order_row", "A row per shipping line"]],
      help: "Freight: the shipping total goes into the Fortnox Freight field and Fortnox computes its VAT. "
        + "Rows: each ikas shipping line becomes a row with its own VAT rate." },
    { key: "shipping_article_number", label: "Shipping article number", kind: "text",
      help: "Optional: the Fortnox article used for shipping rows." },
    { key: "sales_accounts", label: "Sales accounts per VAT rate", kind: "map",
      keyLabel: "VAT rate", valueLabel: "Sales account", keyHint: "25", valueHint: "3001", numeric: true,
      none: "No sales accounts set: Fortnox's defaults apply.",
      help: "The sales account for free-text and shipping rows, per VAT rate. Fortnox needs one for "
        + "non-standard rates." },
    { key: "send_when", label: "Send orders when", kind: "choice",
      choices: [["placed", "Placed"], ["paid", "Paid"]],
      help: "Send an order once it is placed (unless its payment failed), or only once it is paid." },
    { key: "register_payments", label: "Register payments", kind: "bool",
      help: "When a paid ikas order's invoice exists in Fortnox, register the payment there." },
    { key: "modes_of_payment", label: "Modes of payment", kind: "map",
      keyLabel: "ikas payment method", valueLabel: "Fortnox mode of payment", keyHint: "CREDIT_CARD",
      valueHint: "KORT", numeric: false,
      none: "No payment methods mapped.",
      help: "The Fortnox mode of payment for each ikas payment method, used when registering payments. An "
        + "order paid with an unmapped method leaves its invoice unpaid, with a note." },
    { key: "follow_cancellations", label: "Follow cancellations", kind: "bool",
      help: "Follow ikas cancellations into Fortnox." },
    { key: "follow_refunds", label: "Follow refunds", kind: "bool",
      help: "Follow ikas refunds into Fortnox as credit invoices." },
  ] },
];

// ---- the tab's state

let panel = null;
let connectionCard = null; // <section> of the connection, re-filled on every connection answer
let popupNote = null; // where the card says what the consent window is doing; kept across re-fills
let form = null; // the settings form (buildForm), null until the settings loaded
let lastStatus = null; // the Fortnox status last shown, to tell the banner when it changed
let shown = null; // the connection answer the card shows (canonical JSON); null after a failure
let popupTimer = null;
let authorizing = false;

export function mount(element) {
  panel = element;
  window.addEventListener("message", onMessage);
  window.addEventListener("beforeunload", (event) => {
    if (form && form.isDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  // Back from a consent window the dashboard could not watch (a blocked popup's link, a severed opener).
  window.addEventListener("focus", async () => {
    if (panel.hidden || !connectionCard) return;
    const before = lastStatus;
    await refreshConnection();
    if (lastStatus !== before) window.dispatchEvent(new CustomEvent("bridge:connection-changed"));
  });
  load();
}

export function refresh() {
  if (form && form.isDirty()) refreshConnection();
  else load({ quiet: true });
}

async function load({ quiet = false } = {}) {
  if (!quiet || !form) fill(panel, emptyState("Loading the settings…"));
  let connection;
  let settings;
  let locations;
  try {
    [connection, settings, locations] = await Promise.all([
      api("GET", CONNECTION),
      api("GET", SETTINGS),
      // ikas may be unreachable or disconnected (409, 503): the form then shows the stored id and says why.
      api("GET", LOCATIONS).catch((error) => ({ error })),
    ]);
  } catch (error) {
    form = null;
    connectionCard = null;
    fill(panel, h("div", { class: "card load-failure", role: "alert" },
      h("p", {}, `The settings could not be loaded: ${error.message}`),
      h("button", { type: "button", onclick: () => load() }, "Try again")));
    return;
  }
  if (quiet && form && form.isDirty()) {
    // The merchant edited the form while the quiet reload was on its way: keep the edits, refresh the card only.
    showConnection(connection);
    return;
  }
  connectionCard = h("section", { class: "card connection", "aria-labelledby": "connection-heading" });
  shown = null;
  popupNote = h("div", { class: "popup-state", "aria-live": "polite" });
  showConnection(connection);
  form = buildForm(settings, locations);
  fill(panel, connectionCard, form.element);
}

// ---- the connection card

function connectionHeading() {
  return h("h2", { id: "connection-heading" }, "Connection");
}

async function refreshConnection() {
  if (!connectionCard) return load();
  try {
    const connection = await api("GET", CONNECTION);
    showConnection(connection);
    return connection;
  } catch (error) {
    shown = null;
    fill(connectionCard, connectionHeading(),
      h("p", { role: "alert" }, `The connection could not be loaded: ${error.message}`),
      h("button", { type: "button", onclick: () => refreshConnection() }, "Try again"));
    return null;
  }
}

function showConnection(connection) {
  const { ikas, fortnox } = connection;
  lastStatus = fortnox.status;
  // An unchanged answer leaves the card alone, so a refresh never takes the keyboard focus off its buttons.
  if (canonical(connection) === shown) return;
  shown = canonical(connection);
  const canAuthorize = fortnox.status !== "connected";
  fill(connectionCard, connectionHeading(),
    h("div", { class: "connection-sides" },
      h("div", { class: "connection-side" },
        h("h3", {}, "ikas store"),
        h("dl", { class: "facts" },
          h("dt", {}, "Store"), h("dd", {}, ikas.store_name),
          h("dt", {}, "Status"), h("dd", {}, STATUS_TEXT[ikas.status])),
        ikas.status !== "connected"
          ? h("p", { class: "warning" }, "Open Bridge from the ikas App Store to install it again.") : null,
        ikas.webhook_warning
          ? h("p", { class: "warning" }, "ikas refused Bridge's webhooks, so changes arrive with the scheduled "
            + "syncs instead of at once: ", ikas.webhook_warning) : null),
      h("div", { class: "connection-side" },
        h("h3", {}, "Fortnox company"),
        h("dl", { class: "facts" },
          h("dt", {}, "Status"),
          h("dd", {}, h("span", { class: `connection-status connection-${fortnox.status}`, role: "status",
            "aria-label": "Fortnox status" }, STATUS_TEXT[fortnox.status])),
          h("dt", {}, "Company"), h("dd", {}, fortnox.company_name || "–"),
          h("dt", {}, "Organisation number"), h("dd", {}, fortnox.organisation_number || "–"),
          h("dt", {}, "Connected since"),
          h("dd", {}, fortnox.status === "disconnected" ? "–" : when(fortnox.connected_at)),
          h("dt", {}, "Warehouse module"), h("dd", {}, yes(fortnox.warehouse_module))),
        fortnox.status === "needs_reauth"
          ? h("p", { class: "warning" }, "Fortnox needs you to authorize Bridge again. Syncs that need Fortnox "
            + "are paused; nothing is lost and they continue once you have authorized.") : null,
        h("div", { class: "toolbar" },
          canAuthorize
            ? h("button", { type: "button", class: "primary", onclick: (event) => authorize(event.currentTarget) },
              "Authorize with Fortnox")
            : h("button", { type: "button", class: "danger", onclick: (event) => disconnect(event.currentTarget) },
              "Disconnect from Fortnox")),
        popupNote)));
}

async function authorize(button) {
  await busy(button, async () => {
    const { authorize_url: url } = await api("POST", "/api/v1/connection/fortnox/authorize");
    const popup = window.open(url, POPUP_NAME, POPUP_FEATURES);
    if (popup) {
      watchPopup(popup);
      return;
    }
    // A blocked popup: a link is a click of the merchant's own, which browsers let open the window.
    fill(popupNote, h("p", {}, "Your browser blocked the Fortnox window. ",
      h("a", { href: url, target: POPUP_NAME, rel: "opener", onclick: (event) => {
        const opened = window.open(url, POPUP_NAME, POPUP_FEATURES);
        if (opened) {
          event.preventDefault();
          watchPopup(opened);
        }
      } }, "Open the Fortnox authorization")));
  });
}

function watchPopup(popup) {
  authorizing = true;
  fill(popupNote, h("p", {}, "Finish the authorization in the Fortnox window; this page updates by itself."));
  clearInterval(popupTimer);
  popupTimer = setInterval(() => {
    if (popup.closed) finishAuthorization(null);
  }, POPUP_POLL_MS);
}

/** The consent window reported (ok true or false) or was closed (ok null): show the connection as it is now. */
async function finishAuthorization(ok) {
  clearInterval(popupTimer);
  popupTimer = null;
  if (ok === null && !authorizing) return;
  authorizing = false;
  fill(popupNote);
  const connection = await refreshConnection();
  window.dispatchEvent(new CustomEvent("bridge:connection-changed"));
  if (ok === true && connection && connection.fortnox.status === "connected") {
    notify(`Connected to Fortnox${connection.fortnox.company_name ? `: ${connection.fortnox.company_name}` : ""}`);
  } else if (ok === false) {
    notify("Bridge was not connected to Fortnox; the Fortnox window says why.", { error: true });
  }
}

function onMessage(event) {
  // Only the callback page, served by this gateway, may report; anything else posting here is ignored.
  if (event.origin !== window.location.origin) return;
  const data = event.data;
  if (!data || typeof data !== "object" || data.type !== AUTHORIZED_MESSAGE) return;
  if (connectionCard) finishAuthorization(data.ok === true);
}

async function disconnect(button) {
  const sure = await confirmDialog(
    "Disconnect from Fortnox? Syncs that need Fortnox pause; relations and history are kept.",
    "Disconnect");
  if (!sure) return;
  await busy(button, async () => {
    await api("DELETE", "/api/v1/connection/fortnox");
    notify("Disconnected from Fortnox");
    await refreshConnection();
    window.dispatchEvent(new CustomEvent("bridge:connection-changed"));
  });
  // The pressed button is gone with the re-filled card: keep the keyboard where the next step is.
  connectionCard.querySelector("button")?.focus();
}

// ---- the settings form

function controlId(path) {
  return `setting-${path.replaceAll(".", "-")}`;
}

/** The same JSON value, whatever the order of object keys. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** "2026-03-01T10:00:00+01:00" as the value of a datetime-local input, in the browser's time zone. */
function toLocalInput(text) {
  if (!text) return "";
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
    + `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A datetime-local value as RFC 3339 with the browser's offset at that moment ("...T10:00:00+01:00"). */
function fromLocalInput(value) {
  const date = new Date(value); // a date-time without offset is local time
  if (Number.isNaN(date.getTime())) return null;
  const pad = (n, width = 2) => String(Math.abs(n)).padStart(width, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? "-" : "+";
  return `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
    + `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
    + `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

function sameSecond(a, b) {
  return Math.floor(new Date(a).getTime() / 1000) === Math.floor(new Date(b).getTime() / 1000);
}

function buildForm(initial, locations) {
  let stored = initial; // the baseline: the document as the API last returned it
  // "orders.language" -> {read, write, control}; a map adds problems() and entryControl(key, code)
  const fields = new Map();
  const unsaved = h("span", { class: "unsaved", hidden: true }, "Unsaved changes");
  const saveButton = h("button", { type: "button", class: "primary", onclick: () => busy(saveButton, () => save()) },
    "Save settings");
  const element = h("form", { class: "settings", "aria-labelledby": "settings-heading", novalidate: true,
    onsubmit: (event) => event.preventDefault() },
  h("h2", { id: "settings-heading" }, "Settings"));

  function changed() {
    unsaved.hidden = !isDirty();
  }

  function isDirty() {
    return canonical(read().document) !== canonical(stored);
  }

  // ---- one field: label | control, then its help; errors appear under the control

  function describe(control, ...ids) {
    control.setAttribute("aria-describedby", ids.filter(Boolean).join(" "));
  }

  function watch(control) {
    const edited = () => {
      clearError(control);
      changed();
    };
    control.addEventListener("input", edited);
    control.addEventListener("change", edited);
  }

  function simpleField(section, spec) {
    const path = `${section}.${spec.key}`;
    const id = controlId(path);
    const helpId = `${id}-help`;
    let control;
    let extra = null;
    let read;
    let write;
    if (spec.kind === "bool") {
      control = h("input", { type: "checkbox", id });
      read = () => control.checked;
      write = (value) => { control.checked = value === true; };
    } else if (spec.kind === "choice") {
      control = h("select", { id }, spec.choices.map(([value, text]) => h("option", { value }, text)));
      read = () => control.value;
      write = (value) => { control.value = value; };
    } else if (spec.kind === "text") {
      control = h("input", { type: "text", id, autocomplete: "off" });
      read = () => (control.value === "" ? null : control.value); // empty means null
      write = (value) => { control.value = value ?? ""; };
    } else if (spec.kind === "datetime") {
      control = h("input", { type: "datetime-local", id, step: "1" });
      // The stored text is kept while the input still shows its moment, so an untouched field never reads
      // as a change (the input holds whole seconds in the browser's zone, the API answers in UTC).
      read = () => {
        if (control.value === "") return null;
        const current = stored.orders.sync_from;
        if (current && sameSecond(current, control.value)) return current;
        return fromLocalInput(control.value) ?? control.value;
      };
      write = (value) => { control.value = toLocalInput(value); };
    } else if (spec.kind === "location") {
      control = h("select", { id });
      extra = h("p", { class: "field-note", id: `${id}-note`, hidden: true });
      read = () => (control.value === "" ? null : control.value);
      write = (value) => showLocations(control, extra, value, locations);
    }
    watch(control);
    describe(control, helpId, extra ? extra.id : null);
    const row = h("div", { class: "field" },
      h("label", { for: id }, spec.label), control,
      h("p", { class: "field-help", id: helpId }, spec.help), extra);
    if (path === "products.sync_mode") {
      const warning = h("p", { class: "warning", id: `${id}-warning` },
        "Experimental: ikas to Fortnox considers only the ikas products tagged “fortnox”. Check what it would "
        + "do with Preview on the Products tab before you sync.");
      const showWarning = () => { warning.hidden = control.value !== "ikas_to_fortnox"; };
      control.addEventListener("change", showWarning);
      const plainWrite = write;
      write = (value) => { plainWrite(value); showWarning(); };
      describe(control, helpId, warning.id);
      row.append(warning);
    }
    fields.set(path, { read, write, control });
    return row;
  }

  // ---- a key/value table (orders.sales_accounts, orders.modes_of_payment)

  function mapField(section, spec) {
    const path = `${section}.${spec.key}`;
    const id = controlId(path);
    const labelId = `${id}-label`;
    const helpId = `${id}-help`;
    const body = h("tbody");
    const none = h("p", { class: "empty kv-none" }, spec.none);
    const table = h("table", { class: "table kv" },
      h("caption", { class: "visually-hidden" }, spec.label),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, spec.keyLabel), h("th", { scope: "col" }, spec.valueLabel),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
      body);
    const addButton = h("button", { type: "button", onclick: () => {
      clearError(group);
      addRow("", "").keyInput.focus();
      changed();
    } }, "Add");
    // tabindex -1: an error of the whole map moves the focus here.
    const group = h("div", { class: "kv-editor", role: "group", id, tabindex: "-1", "aria-labelledby": labelId,
      "aria-describedby": helpId }, none, table, addButton);
    group.addEventListener("input", () => clearError(group));
    let rows = [];

    function showEmpty() {
      none.hidden = rows.length > 0;
      table.hidden = rows.length === 0;
    }

    function addRow(key, value) {
      const keyInput = h("input", { type: "text", "aria-label": spec.keyLabel, placeholder: spec.keyHint,
        autocomplete: "off", value: key });
      const valueInput = h("input", { type: "text", "aria-label": spec.valueLabel, placeholder: spec.valueHint,
        autocomplete: "off", inputmode: spec.numeric ? "numeric" : undefined, value: String(value) });
      const row = { keyInput, valueInput };
      row.element = h("tr", {},
        h("td", {}, keyInput), h("td", {}, valueInput),
        h("td", {}, h("button", { type: "button", onclick: () => {
          clearError(group);
          rows = rows.filter((other) => other !== row);
          row.element.remove();
          showEmpty();
          addButton.focus();
          changed();
        } }, "Remove")));
      for (const input of [keyInput, valueInput]) watch(input);
      rows.push(row);
      body.append(row.element);
      showEmpty();
      return row;
    }

    /** The map as typed, and what stops it from being saved (an account that is not a whole number...). */
    function readMap() {
      const value = {};
      const problems = [];
      for (const row of rows) {
        const key = row.keyInput.value.trim();
        const text = row.valueInput.value.trim();
        if (!key && !text) continue; // a row left empty is no entry
        if (!key) {
          problems.push([row.keyInput, `Enter the ${spec.keyLabel}.`]);
          continue;
        }
        if (Object.hasOwn(value, key)) problems.push([row.keyInput, `This ${spec.keyLabel} is already listed.`]);
        if (spec.numeric) {
          if (/^\d{1,15}$/.test(text)) value[key] = Number(text);
          else {
            value[key] = text;
            problems.push([row.valueInput, `Enter the ${spec.valueLabel.toLowerCase()} as a whole number, such `
              + `as ${spec.valueHint}.`]);
          }
        } else {
          value[key] = text;
        }
      }
      return { value, problems };
    }

    fields.set(path, {
      read: () => readMap().value,
      problems: () => readMap().problems,
      write: (value) => {
        rows = [];
        body.replaceChildren();
        for (const [key, entry] of Object.entries(value || {})) addRow(key, entry);
        showEmpty();
      },
      control: group,
      // An error of one entry ("orders.sales_accounts.25") belongs to its row's input.
      entryControl: (key, code) => {
        const row = rows.find((candidate) => candidate.keyInput.value.trim() === key);
        if (!row) return null;
        return KEY_ERRORS.has(code) ? row.keyInput : row.valueInput;
      },
    });
    return h("div", { class: "field field-map" },
      h("span", { class: "field-label", id: labelId }, spec.label), group,
      h("p", { class: "field-help", id: helpId }, spec.help));
  }

  // ---- errors next to their fields

  function errorIdOf(control) {
    if (!control.id) control.id = `setting-entry-${Math.random().toString(36).slice(2)}`;
    return `${control.id}-error`;
  }

  function showError(control, message) {
    const errorId = errorIdOf(control);
    let error = document.getElementById(errorId);
    if (!error) {
      error = h("p", { class: "field-error", id: errorId });
      // Under a row's input inside its cell; under the control otherwise.
      if (control.closest("td")) control.closest("td").append(error);
      else control.after(error);
    }
    error.textContent = message;
    control.setAttribute("aria-invalid", "true");
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(errorId)) described.push(errorId);
    control.setAttribute("aria-describedby", described.join(" "));
  }

  function clearError(control) {
    if (control.getAttribute("aria-invalid") !== "true") return;
    const errorId = `${control.id}-error`;
    document.getElementById(errorId)?.remove();
    control.removeAttribute("aria-invalid");
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== errorId);
    if (described.length) control.setAttribute("aria-describedby", described.join(" "));
    else control.removeAttribute("aria-describedby");
  }

  function clearErrors() {
    for (const control of element.querySelectorAll('[aria-invalid="true"]')) clearError(control);
  }

  /** The control an API error's field names: "orders.language", or an entry "orders.sales_accounts.25". */
  function controlFor(field, code) {
    if (fields.has(field)) return fields.get(field).control;
    for (const [path, entry] of fields) {
      if (entry.entryControl && field.startsWith(`${path}.`)) {
        return entry.entryControl(field.slice(path.length + 1), code || "") || entry.control;
      }
    }
    return null;
  }

  /** The services phrase a field's problem to follow its name ("is required when ..."): say which field. */
  function sentence(control, message) {
    if (!/^[a-z]/.test(message)) return message;
    const name = control.getAttribute("aria-label")
      || element.querySelector(`label[for="${control.id}"]`)?.textContent
      || document.getElementById(control.getAttribute("aria-labelledby") || "")?.textContent
      || "This field";
    return `${name} ${message}.`;
  }

  function focusFirstError() {
    const first = element.querySelector('[aria-invalid="true"]');
    if (first) {
      first.focus();
      first.scrollIntoView({ block: "center" });
    }
  }

  // ---- reading, writing, saving

  function read() {
    const result = {};
    const problems = [];
    for (const { name, fields: specs } of FIELDSETS) {
      result[name] = {};
      for (const spec of specs) {
        const entry = fields.get(`${name}.${spec.key}`);
        result[name][spec.key] = entry.read();
        if (entry.problems) problems.push(...entry.problems());
      }
    }
    return { document: result, problems };
  }

  function write(value) {
    for (const { name, fields: specs } of FIELDSETS) {
      for (const spec of specs) fields.get(`${name}.${spec.key}`).write(value[name][spec.key]);
    }
    changed();
  }

  async function save({ confirmReset = false } = {}) {
    clearErrors();
    const { document: next, problems } = read();
    if (problems.length) {
      for (const [control, message] of problems) showError(control, message);
      notify("Some settings need attention; see the marked fields.", { error: true });
      focusFirstError();
      return;
    }
    let saved;
    try {
      saved = await api("PUT", `${SETTINGS}${confirmReset ? "?confirm_reset=true" : ""}`, next);
    } catch (error) {
      await saveFailed(error, next, confirmReset);
      return;
    }
    stored = saved;
    write(saved); // what the API stored: VAT rates in their one spelling, sync_from once it was set
    notify(confirmReset ? "Settings saved; the product relations were reset." : "Settings saved");
  }

  async function saveFailed(error, next, confirmReset) {
    if (error.status === 422 && error.fieldErrors.length) {
      const elsewhere = [];
      for (const problem of error.fieldErrors) {
        const control = controlFor(problem.field, problem.code);
        if (control) showError(control, sentence(control, problem.message));
        else elsewhere.push(`${problem.field}: ${problem.message}`);
      }
      notify(elsewhere.length ? `The settings were not saved: ${elsewhere.join("; ")}`
        : "The settings were not saved; see the marked fields.", { error: true });
      focusFirstError();
      return;
    }
    const modeChanged = next.products.sync_mode !== stored.products.sync_mode;
    const relationsExist = error.problem.reason === "relations_exist" || (!error.problem.reason && modeChanged);
    if (error.status === 409 && modeChanged && relationsExist && !confirmReset) {
      const sure = await confirmDialog("Changing the sync mode resets all product relations. Continue?",
        "Change mode and reset");
      if (sure) await save({ confirmReset: true });
      else notify("The settings were not saved; the sync mode and the product relations are as they were.");
      return;
    }
    notify(`The settings were not saved: ${error.message}`, { error: true });
  }

  for (const { name, legend, fields: specs } of FIELDSETS) {
    element.append(h("fieldset", {}, h("legend", {}, legend),
      specs.map((spec) => (spec.kind === "map" ? mapField(name, spec) : simpleField(name, spec)))));
  }
  element.append(h("div", { class: "toolbar settings-actions" }, saveButton, unsaved));
  write(stored);
  return { element, isDirty };
}

/** The ikas stock locations by name, "None", and the stored id when it is not (or cannot be) listed. */
function showLocations(select, note, value, locations) {
  const options = [h("option", { value: "" }, "None")];
  const failed = !Array.isArray(locations);
  const known = failed ? [] : locations;
  for (const location of known) options.push(h("option", { value: location.id }, location.name));
  const listed = known.some((location) => location.id === value);
  if (value && !listed) options.push(h("option", { value }, failed ? value : `${value} (not found in ikas)`));
  fill(select, options);
  select.value = value ?? "";
  note.hidden = !(failed || (value && !listed));
  if (failed) {
    note.textContent = `The ikas stock locations cannot be loaded right now (${locations.error.message}). `
      + (value ? `The stored location id ${value} is kept.` : "No location is chosen.");
  } else if (value && !listed) {
    note.textContent = "The stored location is no longer one of the store's stock locations; choose another.";
  }
}
