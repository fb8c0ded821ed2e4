// Actions above a list (templates/includes/list_actions.html): the form posts with the
// list's query string as it is now. htmx moves the list (filters, search, sort) and pushes
// its URL after the page came, so the action's URL is taken from the address bar when sent.
(function () {
  if (window.crmListActions) return;
  window.crmListActions = true;
  var PAGING = ["after", "before", "_panel"];
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-list-action]")) return;
    var query = new URLSearchParams(window.location.search);
    PAGING.forEach(function (name) { query.delete(name); });
    var text = query.toString();
    form.action = form.dataset.listAction + (text ? "?" + text : "");
  });
})();
