// The dashboard shell (product.md §7): three tabs as an ARIA tablist (click, arrow keys, #hash), each tab's
// module mounted the first time it is shown; the run history below them; the reconnect banner.
import { api, requestAdminToken } from "./api.js";
import { fill, h } from "./ui.js";
import { mountRunHistory } from "./runs.js";
import * as settingsTab from "./settings.js";
import * as productsTab from "./products.js";
import * as ordersTab from "./orders.js";

const TABS = { settings: settingsTab, products: productsTab, orders: ordersTab };
const mounted = new Set();

function show(name, { focus = false } = {}) {
  if (!TABS[name]) name = "settings";
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    if (selected && focus) tab.focus();
    document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
  }
  if (!mounted.has(name)) {
    mounted.add(name);
    TABS[name].mount(document.getElementById(`panel-${name}`));
  } else if (TABS[name].refresh) {
    TABS[name].refresh();
  }
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
}

/** The reconnect banner while the Fortnox connection needs authorizing again (product.md §1.4). */
export async function refreshBanner() {
  const banner = document.getElementById("banner");
  try {
    const connection = await api("GET", "/api/v1/connection");
    const status = connection.fortnox.status;
    banner.hidden = status !== "needs_reauth";
    if (!banner.hidden) {
      fill(banner, "Fortnox needs you to authorize Bridge again: syncs are paused and nothing is lost. ",
        h("a", { href: "#settings", onclick: () => show("settings") }, "Reconnect on the Settings tab"));
    }
  } catch {
    banner.hidden = true;
  }
}

function wireTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  for (const [index, tab] of tabs.entries()) {
    tab.addEventListener("click", () => show(tab.dataset.tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) show(tabs[(index + step + tabs.length) % tabs.length].dataset.tab, { focus: true });
      if (event.key === "Home") show(tabs[0].dataset.tab, { focus: true });
      if (event.key === "End") show(tabs[tabs.length - 1].dataset.tab, { focus: true });
    });
  }
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
}

window.addEventListener("bridge:signed-out", () => {
  const notice = document.getElementById("notice");
  notice.className = "notice notice-error";
  notice.textContent = "Your session has ended. Open Bridge again from your ikas admin to sign in.";
  notice.hidden = false;
});
window.addEventListener("bridge:connection-changed", refreshBanner);

async function start() {
  await requestAdminToken();
  wireTabs();
  show(location.hash.slice(1) || "settings");
  mountRunHistory(document.getElementById("run-history"));
  refreshBanner();
}

start();
