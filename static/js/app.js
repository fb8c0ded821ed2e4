// Enhances plain server-rendered markup; every page still works without it.
(function () {
  function enhance(root) {
    root.querySelectorAll("select[data-tom-select]").forEach(function (el) {
      if (el.tomselect) return;
      new TomSelect(el, { plugins: el.multiple ? ["remove_button"] : [], maxOptions: 500,
                          allowEmptyOption: true });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.body && document.body.addEventListener("htmx:afterSwap", function (e) { enhance(e.target); });
})();
