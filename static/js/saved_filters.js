// Saved filter chips above the customer list (templates/groups/saved_filters/chips.html).
// The list moves by htmx (search, filters, sort: the address changes, the chips are not
// re-rendered), so the active chip is found again here, with the rule of
// groups.saved_filters.state_key: the parameters in any order, without the paging
// position, the page size, empty boxes and the default sort. The forms that send "the list
// as it is" (Thêm bộ lọc, Tạo nhóm) take the address at the moment they are sent.
(function () {
  var NOT_COMPARED = { after: 1, before: 1, _panel: 1, size: 1 };
  var NOT_STATE = { after: 1, before: 1, _panel: 1 };

  function pairs(search, skip, defaultSort) {
    var out = [];
    new URLSearchParams(search).forEach(function (value, key) {
      value = value.trim();
      if (!value || skip[key] || (key === "sort" && value === defaultSort)) return;
      out.push([key, value]);
    });
    return out;
  }
  function stateKey(search, defaultSort) {
    return JSON.stringify(pairs(search, NOT_COMPARED, defaultSort).sort(function (a, b) {
      return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
    }));
  }
  function currentState() {  // the list's query string as a saved filter keeps it
    var params = new URLSearchParams();
    pairs(window.location.search, NOT_STATE, null).forEach(function (p) { params.append(p[0], p[1]); });
    return params.toString();
  }

  function refresh() {
    var box = document.querySelector("[data-saved-filters]");
    if (!box) return;
    var sort = box.dataset.defaultSort, now = stateKey(window.location.search, sort), active = null;
    box.querySelectorAll("[data-chip]").forEach(function (chip) {
      var on = stateKey(chip.dataset.state, sort) === now;
      chip.classList.toggle("active", on);
      if (on) { chip.setAttribute("aria-current", "true"); active = active || chip; }
      else chip.removeAttribute("aria-current");
    });
    var toggle = box.querySelector("[data-channel-toggle]");
    if (toggle) {
      var channel = toggle.parentNode.querySelector("[data-chip].active");
      toggle.classList.toggle("active", !!channel);
      toggle.querySelector("[data-channel-label]").textContent = channel ? channel.dataset.label : toggle.dataset.defaultLabel;
    }
    var state = currentState();
    document.querySelectorAll("[data-current-query]").forEach(function (el) { el.value = state; });
    document.querySelectorAll("[data-active-label]").forEach(function (el) { el.value = active ? active.dataset.label : ""; });
    document.querySelectorAll("[data-needs-state]").forEach(function (el) { el.disabled = now === "[]"; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    refresh();
    // A phone scrolls the chips sideways: the active one starts in view.
    var strip = document.querySelector("[data-saved-filters] .saved-filters-strip");
    var active = strip && strip.querySelector(":scope > .active, :scope > * > .active, :scope > .dropdown > [data-channel-toggle].active");
    if (active && strip.scrollWidth > strip.clientWidth) {
      var left = active.getBoundingClientRect().left - strip.getBoundingClientRect().left + strip.scrollLeft;
      strip.scrollLeft = Math.max(0, left - strip.clientWidth / 2 + active.offsetWidth / 2);
    }
  });
  document.addEventListener("htmx:pushedIntoHistory", refresh);
  document.addEventListener("htmx:historyRestore", refresh);
  window.addEventListener("popstate", function () { setTimeout(refresh, 0); });
  // The forms read the address when they are sent, whatever happened since the last refresh.
  document.addEventListener("submit", function (e) {
    if (e.target.closest && (e.target.matches("[data-to-group], [data-save-filter-form]"))) refresh();
  }, true);
  document.addEventListener("htmx:configRequest", function (e) {
    if (!e.detail.elt.matches || !e.detail.elt.matches("[data-save-filter-form]")) return;
    if (e.detail.formData) e.detail.formData.set("query", currentState());
    else e.detail.parameters.query = currentState();
  });
  // The dialog opens with what the list filters now (read again: the list may have moved)
  // and the name box focused.
  document.addEventListener("show.bs.modal", function (e) {
    if (e.target.id !== "save-filter-modal" || !window.htmx) return;
    refresh();
    var form = e.target.querySelector("[data-save-filter-form]");
    var state = currentState();
    window.htmx.ajax("GET", form.getAttribute("action") + (state ? "?" + state : ""),
                     { target: form, swap: "outerHTML" });
  });
  document.addEventListener("shown.bs.modal", function (e) {
    if (e.target.id !== "save-filter-modal") return;
    var name = e.target.querySelector("input[name=name]");
    if (name) name.focus();
  });
  // After an htmx answer with errors the new form keeps the dialog's focus on the name.
  document.addEventListener("htmx:afterSwap", function () {
    var name = document.querySelector("#save-filter-modal.show [data-save-filter-form] input[name=name]");
    if (name) name.focus();
  });
})();
