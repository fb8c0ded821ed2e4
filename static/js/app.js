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

// ==== Money inputs (begin) ====================================================================
// MoneyInput (crm/money.py) renders <input data-money>. While the user types digits the box
// groups them with dots (1500000 -> 1.500.000) and keeps the caret after the same digit. Once
// they type anything else (a dot, a comma, "k", "tr", "đ") the box is left as typed, and on
// leaving it the amount is read with the same rules as the server's parse_money and shown
// grouped ("220k" -> "220.000"), or marked unreadable. The server's parse stays the judge.
(function () {
  var UNITS = { k: 1e3, "nghìn": 1e3, nghin: 1e3, "ngàn": 1e3, ngan: 1e3, tr: 1e6,
                "triệu": 1e6, trieu: 1e6, "tỷ": 1e9, "tỉ": 1e9, ty: 1e9, ti: 1e9 };
  var unit = Object.keys(UNITS).sort(function (a, b) { return b.length - a.length; }).join("|");
  var CURRENCY = /\s*(?:₫|vnđ|vnd|đồng|dong|đ|d)\.?$/;
  var PLAIN = /^[0-9]+$/;
  var GROUPED = /^[0-9]{1,3}([., ])[0-9]{3}(?:\1[0-9]{3})*$/;
  var WITH_UNIT = new RegExp("^([0-9]+)(?:[.,]([0-9]+))? ?(" + unit + ")$");
  var SPOKEN = new RegExp("^([0-9]+) ?(" + unit + ") ?([0-9]{1,3})$");

  function scaled(whole, frac, factor) {  // in integers: 1,5tr is exactly 1.500.000
    var places = String(factor).length - 1;
    if (/[1-9]/.test(frac.slice(places))) return NaN;  // 1,2345k: not whole đồng
    return parseInt(whole, 10) * factor + parseInt((frac + "000000000").slice(0, places), 10);
  }
  function amount(s) {
    var m;
    if (PLAIN.test(s)) return parseInt(s, 10);
    if (GROUPED.test(s)) return parseInt(s.replace(/[., ]/g, ""), 10);
    if ((m = WITH_UNIT.exec(s))) {
      return m[2] && m[2].length === 3 ? NaN : scaled(m[1], m[2] || "", UNITS[m[3]]);
    }
    if ((m = SPOKEN.exec(s))) return scaled(m[1], m[3], UNITS[m[2]]);
    return NaN;
  }
  // Whole đồng; null for an empty box; NaN when it cannot be read without guessing.
  function parse(text) {
    var s = String(text).normalize("NFC").toLowerCase().replace(/[\s\u00a0\u202f]+/g, " ").trim();
    if (!s) return null;
    s = s.replace(CURRENCY, "").trim();
    var negative = s[0] === "-" || s[0] === "\u2212";
    if (negative) s = s.slice(1).trim();
    var value = amount(s);
    return negative ? -value : value;
  }
  function group(digits) { return digits.replace(/\B(?=([0-9]{3})+$)/g, "."); }
  function format(value) { return (value < 0 ? "-" : "") + group(String(Math.abs(value))); }
  function isGrouped(v) { return v === "" || (/^[0-9.]+$/.test(v) && group(v.replace(/\./g, "")) === v); }
  window.crmMoney = { parse: parse, format: format };

  document.addEventListener("focusin", function (e) {
    if (e.target.matches && e.target.matches("input[data-money]")) e.target._moneyPrev = e.target.value;
  });
  document.addEventListener("input", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches("input[data-money]")) return;
    el.classList.remove("is-invalid");
    var value = el.value, prev = el._moneyPrev || "";
    el._moneyPrev = value;
    var typedDigits = e.data != null && /^[0-9]+$/.test(e.data);
    var deleted = /^delete/.test(e.inputType || "");
    // Our own dots: the user typed or deleted digits in a box we grouped. Anything else is
    // the user's own writing (1.5tr, 220,000): only plain digits are grouped then.
    var ours = isGrouped(prev) && /^[0-9.]*$/.test(value) && (typedDigits || deleted);
    if (!ours && !PLAIN.test(value)) return;
    var caret = el.selectionStart == null ? value.length : el.selectionStart;
    var before = value.slice(0, caret).replace(/[^0-9]/g, "").length;
    var digits = value.replace(/\./g, "");
    if (ours && deleted && digits === prev.replace(/\./g, "")) {
      // Only a dot went: take the digit next to it, or the dot would come straight back.
      if (e.inputType === "deleteContentBackward" && before > 0) {
        digits = digits.slice(0, before - 1) + digits.slice(before); before -= 1;
      } else if (e.inputType === "deleteContentForward") {
        digits = digits.slice(0, before) + digits.slice(before + 1);
      }
    }
    var trimmed = digits.replace(/^0+(?=[0-9])/, "");
    before = Math.max(0, before - (digits.length - trimmed.length));
    var formatted = group(trimmed);
    el.value = formatted;
    el._moneyPrev = formatted;
    var pos = 0;
    for (var seen = 0; pos < formatted.length && seen < before; pos++) {
      if (formatted[pos] !== ".") seen++;
    }
    if (document.activeElement === el) el.setSelectionRange(pos, pos);
  });
  document.addEventListener("focusout", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches("input[data-money]")) return;
    var value = parse(el.value);
    if (value === null) return;
    if (isNaN(value) || !Number.isSafeInteger(value)) { el.classList.add("is-invalid"); return; }
    el.value = format(value);
  });
})();
// ==== Money inputs (end) ======================================================================

// ==== Clean GET forms (layout, begin) ========================================================
// A search or filter form marked data-clean-get leaves its empty boxes out of the address:
// "?q=lan" rather than "?q=lan&care_status=&source=&...". A plain submit navigates to the
// cleaned URL itself; an htmx request (the customer list) drops them in htmx:configRequest,
// so the URL htmx pushes is clean too. Without JavaScript the form still works, only longer.
(function () {
  // Boxes that hold their default (data-clean-default="any") are left out as well.
  function atDefault(form) {
    var names = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.dataset.cleanDefault !== undefined && el.value === el.dataset.cleanDefault) names[el.name] = true;
    });
    return names;
  }
  function cleaned(formData, form) {
    var params = new URLSearchParams(), skip = atDefault(form);
    formData.forEach(function (value, key) {
      if (typeof value === "string" && value.trim() !== "" && !skip[key]) params.append(key, value);
    });
    return params;
  }
  function marked(el) {
    return el && el.closest && el.closest("form[data-clean-get], [data-clean-get] form");
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.matches("form[data-clean-get]")) return;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "get") return;
    e.preventDefault();
    var query = cleaned(new FormData(form, e.submitter || undefined), form).toString();
    var action = (form.getAttribute("action") || window.location.pathname).split("?")[0];
    window.location.assign(action + (query ? "?" + query : ""));
  });
  document.addEventListener("htmx:configRequest", function (e) {
    var form = marked(e.detail.elt);
    if (e.detail.verb !== "get" || !form) return;
    var data = e.detail.formData, empty = [], skip = atDefault(form);
    data.forEach(function (value, key) {
      if (skip[key] || data.getAll(key).every(function (v) { return typeof v === "string" && v.trim() === ""; })) empty.push(key);
    });
    empty.forEach(function (key) { data.delete(key); });
  });
})();
// ==== Clean GET forms (layout, end) ==========================================================

// ==== Layout (layout, begin) =================================================================
// A strip that scrolls sideways (the profile's tabs on a phone) opens with its active tab in view.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".profile-tabs-scroll").forEach(function (strip) {
    var active = strip.querySelector(".nav-link.active");
    if (active && strip.scrollWidth > strip.clientWidth) {
      strip.scrollLeft = Math.max(0, active.offsetLeft - strip.clientWidth / 2 + active.offsetWidth / 2);
    }
  });
});

// Confirm dialog (templates/includes/confirm_dialog.html): a click on [data-confirm] (a submit
// button, a link) first opens the dialog with its question; "Go back" is first and focused, the
// red button last. Confirming repeats the click, so the form posts with the same submitter
// (name/value) and htmx elements fire as they would have.
(function () {
  var pending = null;
  function modalApi() {
    var t = window.tabler || {};
    return (t.bootstrap && t.bootstrap.Modal) || t.Modal || (window.bootstrap && window.bootstrap.Modal);
  }
  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-confirm]");
    if (!el || el.disabled) return;
    if (el.dataset.confirmed === "1") { delete el.dataset.confirmed; return; }
    var dialog = document.querySelector("[data-confirm-dialog]");
    var Modal = modalApi();
    if (!dialog || !Modal) return;  // no dialog on this page: act at once, as without JS
    e.preventDefault();
    e.stopImmediatePropagation();
    pending = el;
    dialog.querySelector("[data-dialog-title]").textContent = el.dataset.confirm;
    dialog.querySelector("[data-dialog-text]").textContent = el.dataset.confirmText || "";
    var ok = dialog.querySelector("[data-dialog-accept]");
    ok.textContent = el.dataset.confirmOk || ok.dataset.defaultLabel;
    Modal.getOrCreateInstance(dialog).show();
  }, true);
  document.addEventListener("shown.bs.modal", function (e) {
    if (e.target.matches("[data-confirm-dialog]")) e.target.querySelector("[data-dialog-cancel]").focus();
  });
  document.addEventListener("hidden.bs.modal", function (e) {
    if (e.target.matches("[data-confirm-dialog]")) pending = null;
  });
  // Any other dialog opens on its [autofocus] box, whether the box was there when it opened
  // or came with htmx while it faded in (Bootstrap focuses the dialog itself once shown, so
  // keys typed meanwhile would be lost): "Cập nhật điểm" is typed into straight away.
  function focusDialogBox(modal) {
    var box = modal.querySelector("[autofocus]");
    if (box && document.activeElement !== box) box.focus();
  }
  document.addEventListener("shown.bs.modal", function (e) {
    if (!e.target.matches("[data-confirm-dialog]")) focusDialogBox(e.target);
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var modal = e.target.closest && e.target.closest(".modal.show");
    if (modal && !modal.matches("[data-confirm-dialog]")) focusDialogBox(modal);
  });
  document.addEventListener("click", function (e) {
    if (!e.target.closest("[data-dialog-accept]") || !pending) return;
    var el = pending, dialog = e.target.closest("[data-confirm-dialog]");
    modalApi().getOrCreateInstance(dialog).hide();
    el.dataset.confirmed = "1";
    el.click();
  });
})();
// ==== Layout (layout, end) ===================================================================
