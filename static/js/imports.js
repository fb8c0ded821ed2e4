// The import screens (templates/imports/). The server checks everything again; this only
// helps while the manager matches the columns.
(function () {
  // A skipped column is greyed; a field chosen by two columns is flagged on the second one
  // (phones, emails and tags may come from several columns: data-multi names them).
  function refresh(form) {
    var multi = (form.dataset.multi || "").split(" ");
    var seen = {};
    form.querySelectorAll("[data-mapping-row]").forEach(function (row) {
      var select = row.querySelector("select[data-mapping-select]");
      if (!select) return;
      var value = select.value;
      row.classList.toggle("import-skipped", value === "");
      var clash = false;
      if (value && multi.indexOf(value.split(":")[0]) < 0) {
        clash = Object.prototype.hasOwnProperty.call(seen, value);
        if (!clash) seen[value] = row.querySelector("[data-testid=mapping-header]").textContent;
      }
      select.classList.toggle("is-invalid", clash);
      var note = row.querySelector("[data-clash]");
      if (clash && !note) {
        note = document.createElement("div");
        note.className = "invalid-feedback d-block";
        note.setAttribute("data-clash", "");
        select.insertAdjacentElement("afterend", note);
      }
      if (note) {
        if (clash) note.textContent = (form.dataset.clashText || "") + " " + seen[value];
        else note.remove();
      }
    });
  }
  function each(fn) { document.querySelectorAll("form[data-mapping-form]").forEach(fn); }
  document.addEventListener("DOMContentLoaded", function () { each(refresh); });
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-mapping-select]")) refresh(e.target.closest("form"));
  });
  // One click sends the form once: the check or the run is not queued twice.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form[data-mapping-form], form[data-once]") || e.defaultPrevented) return;
    if (form.dataset.sent === "1") { e.preventDefault(); return; }
    form.dataset.sent = "1";
    var button = form.querySelector("button[type=submit]");
    if (button) button.classList.add("btn-loading");
  });
  // Back to a page the browser kept: its forms may be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
      var button = form.querySelector("button[type=submit]");
      if (button) button.classList.remove("btn-loading");
    });
  });
})();
