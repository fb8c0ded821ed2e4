// Enhances plain server-rendered markup; every page still works without it.
(function () {
  function enhance(root) {
    root.querySelectorAll("select[data-tom-select]").forEach(function (el) {
      if (el.tomselect) return;
      new TomSelect(el, { plugins: el.multiple ? ["remove_button"] : [], maxOptions: 500,
                          allowEmptyOption: true, hidePlaceholder: true });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.body && document.body.addEventListener("htmx:afterSwap", function (e) { enhance(e.target); });
})();

// Customer list: row selection for bulk actions, bulk parameter selects, column order.
(function () {
  function refreshBulk() {
    var form = document.getElementById("bulk-form");
    if (!form) return;
    var checked = document.querySelectorAll("[data-row-check]:checked").length;
    var counter = document.querySelector("#bulk-selected b");
    if (counter) counter.textContent = checked;
    form.querySelector("[data-bulk-submit]").disabled = checked === 0;
    var action = form.querySelector("[data-bulk-action]").value;
    form.querySelectorAll("[data-bulk-param]").forEach(function (el) {
      var show = el.dataset.bulkParam.split(" ").indexOf(action) >= 0;
      el.classList.toggle("d-none", !show);
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-select-all]")) {
      document.querySelectorAll("[data-row-check]").forEach(function (c) { c.checked = e.target.checked; });
    }
    if (e.target.matches("[data-select-all], [data-row-check], [data-bulk-action]")) refreshBulk();
  });
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-column-chooser] [data-move]");
    if (!btn) return;
    var li = btn.closest("li");
    if (btn.dataset.move === "up" && li.previousElementSibling) li.parentNode.insertBefore(li, li.previousElementSibling);
    if (btn.dataset.move === "down" && li.nextElementSibling) li.parentNode.insertBefore(li.nextElementSibling, li);
  });
  document.addEventListener("DOMContentLoaded", refreshBulk);
  document.addEventListener("htmx:afterSwap", refreshBulk);
})();

// Add/remove rows of a RowsWidget (other phones, other emails).
document.addEventListener("click", function (e) {
  var add = e.target.closest("[data-row-add]");
  if (add) {
    var box = add.closest("[data-rows]");
    var rows = box.querySelectorAll("[data-row]");
    var copy = rows[rows.length - 1].cloneNode(true);
    var input = copy.querySelector("input");
    input.value = ""; input.removeAttribute("id");
    box.insertBefore(copy, add);
    input.focus();
  }
  var remove = e.target.closest("[data-row-remove]");
  if (remove) {
    var row = remove.closest("[data-row]");
    var all = row.parentNode.querySelectorAll("[data-row]");
    if (all.length > 1) row.remove(); else row.querySelector("input").value = "";
  }
});

// Formsets: "add a row" clones the last row with the next index (Django management form).
document.addEventListener("click", function (e) {
  var add = e.target.closest("[data-formset-add]");
  if (!add) return;
  var prefix = add.dataset.prefix;
  var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
  var rows = add.closest("[data-formset]").querySelectorAll("[data-formset-row]");
  var copy = rows[rows.length - 1].cloneNode(true);
  var index = parseInt(total.value, 10);
  copy.querySelectorAll("input, select, label, div").forEach(function (el) {
    ["name", "id", "for"].forEach(function (attr) {
      var v = el.getAttribute(attr);
      if (v) el.setAttribute(attr, v.replace(new RegExp(prefix + "-\\d+-"), prefix + "-" + index + "-"));
    });
    if (el.tagName === "INPUT" && el.type !== "checkbox") el.value = el.name.endsWith("quantity") ? "1" : "";
  });
  copy.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
  add.parentNode.insertBefore(copy, add);
  total.value = index + 1;
});

// Selects that submit their form on change (shop switcher, language, rows per page). A plain
// submit, as before: a full page load, not an htmx request. Handlers live here, not in
// on*= attributes, because the Content-Security-Policy allows scripts from files only.
document.addEventListener("change", function (e) {
  if (e.target.matches("select[data-autosubmit]")) e.target.form.submit();
});

// Tabs loaded by htmx (customer profile): the clicked tab becomes the active one.
document.addEventListener("click", function (e) {
  var link = e.target.closest("[data-htmx-tabs] .nav-link");
  if (!link) return;
  link.closest("[data-htmx-tabs]").querySelectorAll(".nav-link").forEach(function (a) {
    a.classList.toggle("active", a === link);
  });
});
