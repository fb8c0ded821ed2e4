// The group form's rule builder (templates/groups/group_form.html).
//
// Rows of conditions, field -> operator -> a value widget fitting the field's type, and
// "một trong" blocks one level deep, read from and written to the hidden rule field as the
// rule document of customers.rules ({"conditions": [cond | {"any": [cond, ...]}]}). The
// fields, their operators and choices come from customers.fields.field_catalog (the
// json_script "rule-catalog"). Every change writes the JSON and fires "rule-change" on the
// form, which the live count listens to (htmx, debounced). The server validates the rule
// (customers.rules.rule_validate): the builder only helps to type it.
(function () {
  var root = document.querySelector("[data-rule-builder]");
  if (!root) return;
  var input = document.getElementById(root.dataset.input);
  var form = input.form;
  var catalog = JSON.parse(document.getElementById("rule-catalog").textContent);
  var fields = {};
  catalog.forEach(function (f) { fields[f.key] = f; });
  var T = root.dataset;  // translated words: data-text-*
  root.style.setProperty("--rule-and", JSON.stringify(T.textAnd));
  root.style.setProperty("--rule-or", JSON.stringify(T.textOr));
  var LISTED = ["choice", "relation", "multi", "month"];
  var NUMERIC = ["number", "money", "days", "recent"];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function icon(name) { return el("i", { "class": "ti " + name, "aria-hidden": "true" }); }

  // --- dates: the shop types dd/mm/yyyy; the rule holds YYYY-MM-DD -------------------------
  function toIso(text) {
    var m = /^\s*(\d{1,2})[\/.\-](\d{1,2})[\/.\-](\d{4})\s*$/.exec(text);
    if (!m) return text.trim();
    return m[3] + "-" + ("0" + m[2]).slice(-2) + "-" + ("0" + m[1]).slice(-2);
  }
  function fromIso(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
    return m ? m[3] + "/" + m[2] + "/" + m[1] : (text || "");
  }

  // --- one condition row --------------------------------------------------------------------
  function fieldSelect(selected) {
    var select = el("select", { "class": "form-select", "data-part": "field",
                                "aria-label": T.textField });
    select.appendChild(el("option", { value: "", text: T.textField }));
    var groups = {};
    catalog.forEach(function (f) {
      var label = f.section_label || f.section || "";
      if (!groups[label]) {
        groups[label] = el("optgroup", { label: label });
        select.appendChild(groups[label]);
      }
      var option = el("option", { value: f.key, text: f.label });
      if (f.key === selected) option.selected = true;
      groups[label].appendChild(option);
    });
    return select;
  }

  function operatorSelect(field, selected) {
    var select = el("select", { "class": "form-select", "data-part": "op",
                                "aria-label": T.textOperator });
    (field ? field.operators : []).forEach(function (op) {
      var option = el("option", { value: op.key, text: op.label });
      if (op.key === selected) option.selected = true;
      select.appendChild(option);
    });
    select.disabled = !field;
    return select;
  }

  function operatorOf(field, key) {
    if (!field) return null;
    for (var i = 0; i < field.operators.length; i++) {
      if (field.operators[i].key === key) return field.operators[i];
    }
    return field.operators[0] || null;
  }

  function unitOf(field) { return field.type === "money" ? "₫" : field.unit; }

  function oneInput(field, value, bare) {
    var attrs = { "class": "form-control", "data-value": "", "aria-label": field.label,
                  autocomplete: "off" };
    var shown = value === null || value === undefined ? "" : String(value);
    if (field.type === "money") {
      attrs.inputmode = "numeric"; attrs["data-money"] = ""; attrs.spellcheck = "false";
      if (shown && window.crmMoney && /^-?\d+$/.test(shown)) shown = window.crmMoney.format(parseInt(shown, 10));
    } else if (NUMERIC.indexOf(field.type) >= 0) {
      attrs.type = "number"; attrs.min = "0"; attrs.inputmode = "numeric";
    } else if (field.type === "date") {
      attrs.placeholder = T.textDate; attrs.inputmode = "numeric";
      shown = fromIso(shown);
    }
    attrs.value = shown;
    var box = el("input", attrs);
    var unit = unitOf(field);
    if (!unit || bare) return box;
    return el("div", { "class": "input-group" }, [box, el("span", { "class": "input-group-text", text: unit })]);
  }

  function listSelect(field, values) {
    var chosen = (values || []).map(String);
    var select = el("select", { "class": "form-select", multiple: "", "data-value-list": "",
                                "aria-label": field.label, placeholder: T.textChoose });
    var groups = {};
    field.choices.forEach(function (c) {
      var parent = select;
      if (c.group) {
        if (!groups[c.group]) { groups[c.group] = el("optgroup", { label: c.group }); select.appendChild(groups[c.group]); }
        parent = groups[c.group];
      }
      var option = el("option", { value: String(c.value), text: c.label });
      if (chosen.indexOf(String(c.value)) >= 0) option.selected = true;
      parent.appendChild(option);
    });
    return select;
  }

  function valueWidget(cell, field, op, value) {
    cell.textContent = "";
    if (!field || !op || op.arity === 0) return;
    if (LISTED.indexOf(field.type) >= 0) {
      var select = listSelect(field, Array.isArray(value) ? value : (value === null || value === undefined ? [] : [value]));
      cell.appendChild(select);
      if (window.TomSelect) {
        new TomSelect(select, { plugins: ["remove_button"], maxOptions: 500, hidePlaceholder: true,
                                onChange: changed });
      }
      return;
    }
    if (op.arity === 2) {
      // Two boxes, the unit once after them; they wrap onto two lines when narrow.
      var pair = Array.isArray(value) ? value : [null, null];
      var unit = unitOf(field);
      cell.appendChild(el("div", { "class": "rule-between" }, [
        oneInput(field, pair[0], true), el("span", { "class": "text-secondary", text: T.textTo }),
        oneInput(field, pair[1], true), unit ? el("span", { "class": "text-secondary", text: unit }) : null]));
      return;
    }
    cell.appendChild(oneInput(field, value));
  }

  function conditionRow(cond) {
    cond = cond || {};
    var field = fields[cond.field] || null;
    var op = operatorOf(field, cond.op);
    var fieldCell = el("div", { "class": "rule-field" }, [fieldSelect(field ? field.key : "")]);
    var opCell = el("div", { "class": "rule-op" }, [operatorSelect(field, op && op.key)]);
    var valueCell = el("div", { "class": "rule-value", "data-part": "value" });
    var remove = el("button", { type: "button", "class": "btn btn-icon btn-ghost-danger rule-remove",
                                "data-rule-remove": "", "aria-label": T.textRemove, title: T.textRemove }, [icon("ti-x")]);
    var row = el("div", { "class": "rule-row", "data-rule-row": "" }, [fieldCell, opCell, valueCell, remove]);
    valueWidget(valueCell, field, op, cond.value);
    return row;
  }

  function anyBlock(children) {
    var rows = el("div", { "class": "rule-rows rule-rows-any", "data-rule-rows": "" });
    (children && children.length ? children : [{}, {}]).forEach(function (c) { rows.appendChild(conditionRow(c)); });
    var head = el("div", { "class": "rule-any-head" }, [
      el("span", { "class": "fw-medium", text: T.textAny }),
      el("button", { type: "button", "class": "btn btn-sm btn-ghost-danger ms-auto", "data-rule-remove-block": "" },
         [icon("ti-trash"), el("span", { "class": "ms-1", text: T.textRemoveBlock })])]);
    var add = el("button", { type: "button", "class": "btn btn-sm btn-ghost-primary mt-2", "data-rule-add": "" },
                 [icon("ti-plus"), el("span", { "class": "ms-1", text: T.textAdd })]);
    return el("div", { "class": "rule-any", "data-rule-any": "", "data-text-or": T.textOr }, [head, rows, add]);
  }

  // --- reading the rows back ----------------------------------------------------------------
  function readOne(field, box) {
    var text = box.value.trim();
    if (field.type === "money") {
      var amount = window.crmMoney ? window.crmMoney.parse(text) : parseInt(text, 10);
      return amount === null ? "" : (isNaN(amount) ? text : amount);
    }
    if (NUMERIC.indexOf(field.type) >= 0) return /^\d+$/.test(text) ? parseInt(text, 10) : text;
    if (field.type === "date") return toIso(text);
    return text;
  }

  function readRow(row) {
    var field = fields[row.querySelector("[data-part=field]").value];
    if (!field) return null;  // a row still without a field is not a condition yet
    var op = operatorOf(field, row.querySelector("[data-part=op]").value);
    var cond = { field: field.key, op: op.key, value: null };
    if (op.arity === 0) return cond;
    var list = row.querySelector("[data-value-list]");
    if (list) {
      var byString = {};
      field.choices.forEach(function (c) { byString[String(c.value)] = c.value; });
      cond.value = Array.prototype.filter.call(list.options, function (o) { return o.selected; })
        .map(function (o) { return byString[o.value] !== undefined ? byString[o.value] : o.value; });
      return cond;
    }
    var values = Array.prototype.map.call(row.querySelectorAll("[data-value]"), function (b) { return readOne(field, b); });
    cond.value = op.arity === 2 ? values : values[0];
    return cond;
  }

  function readRule() {
    var conditions = [];
    Array.prototype.forEach.call(root.querySelector("[data-rule-rows]").children, function (item) {
      if (item.matches("[data-rule-row]")) {
        var cond = readRow(item);
        if (cond) conditions.push(cond);
      } else if (item.matches("[data-rule-any]")) {
        var any = [];
        item.querySelectorAll("[data-rule-row]").forEach(function (row) {
          var cond = readRow(row);
          if (cond) any.push(cond);
        });
        if (any.length) conditions.push({ any: any });
      }
    });
    return { conditions: conditions };
  }

  function changed() {
    var json = JSON.stringify(readRule());
    if (json === input.value) return;
    input.value = json;
    form.dispatchEvent(new CustomEvent("rule-change", { bubbles: true }));
  }

  // --- events -------------------------------------------------------------------------------
  root.addEventListener("change", function (e) {
    var part = e.target.dataset && e.target.dataset.part;
    var row = e.target.closest("[data-rule-row]");
    if (part === "field" && row) {
      var field = fields[e.target.value] || null;
      var ops = operatorSelect(field, null);
      row.querySelector("[data-part=op]").replaceWith(ops);
      valueWidget(row.querySelector("[data-part=value]"), field, operatorOf(field, null), null);
      var first = row.querySelector("[data-part=value] input, [data-part=value] select");
      if (first && !first.tomselect) first.focus();
    } else if (part === "op" && row) {
      var f = fields[row.querySelector("[data-part=field]").value];
      var before = readRow(row);
      var op = operatorOf(f, e.target.value);
      var keep = before && before.value;
      // Keep what was typed when the new operator takes the same shape of value.
      if (op.arity === 2 && !Array.isArray(keep)) keep = [keep, null];
      else if (op.arity !== 2 && Array.isArray(keep) && LISTED.indexOf(f.type) < 0) keep = keep[0];
      valueWidget(row.querySelector("[data-part=value]"), f, op, keep);
    }
    changed();
  });
  // After the document's own handlers: a money box regroups its digits on input and on blur
  // (static/js/app.js), and the rule must hold the amount as shown.
  root.addEventListener("input", function () { setTimeout(changed, 0); });
  root.addEventListener("focusout", function () { setTimeout(changed, 0); });
  root.addEventListener("click", function (e) {
    var add = e.target.closest("[data-rule-add]");
    var addAny = e.target.closest("[data-rule-add-any]");
    var remove = e.target.closest("[data-rule-remove]");
    var removeBlock = e.target.closest("[data-rule-remove-block]");
    if (add) {
      var rows = add.parentNode.querySelector(":scope > [data-rule-rows]") || root.querySelector("[data-rule-rows]");
      var row = conditionRow({});
      rows.appendChild(row);
      row.querySelector("[data-part=field]").focus();
    } else if (addAny) {
      var block = anyBlock([]);
      root.querySelector("[data-rule-rows]").appendChild(block);
      block.querySelector("[data-part=field]").focus();
    } else if (remove) {
      var own = remove.closest("[data-rule-row]");
      var inBlock = own.closest("[data-rule-any]");
      own.remove();
      if (inBlock && !inBlock.querySelector("[data-rule-row]")) inBlock.remove();
    } else if (removeBlock) {
      removeBlock.closest("[data-rule-any]").remove();
    } else {
      return;
    }
    changed();
  });

  // The kind of a new group: conditions, or a fixed list filled on the group's page.
  document.querySelectorAll("[data-group-kind]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      var fixed = document.querySelector("[data-group-kind]:checked").value === "fixed";
      document.querySelector("[data-rule-card]").hidden = fixed;
      document.querySelector("[data-fixed-card]").hidden = !fixed;
    });
  });

  // --- start from the rule of the page (an edit, or a form sent back with errors) ----------
  var start = { conditions: [] };
  try { start = JSON.parse(input.value || "{}") || start; } catch (err) { start = { conditions: [] }; }
  var rows = root.querySelector("[data-rule-rows]");
  (Array.isArray(start.conditions) ? start.conditions : []).forEach(function (item) {
    rows.appendChild(item && Array.isArray(item.any) ? anyBlock(item.any) : conditionRow(item));
  });
  if (!rows.children.length) rows.appendChild(conditionRow({}));
  input.value = JSON.stringify(readRule());
})();
