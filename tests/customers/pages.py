"""Reading what the customer list shows, for tests of other pages that link to it."""

import re
from urllib.parse import urlencode


def result_count_text(client, url: str, params: dict | None = None) -> str:
    """The list's "N khách hàng" as the browser sees it: the list page, then the count
    panel its htmx placeholder asks for (crm.generic.TenantListView.lazy_count)."""
    if params:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}"
    html = client.get(url).content.decode()
    found = re.search(r'data-testid="result-count"[^>]*>([^<]*)<', html)
    if found is None:
        count_url = re.search(r'hx-get="([^"]*_panel=count[^"]*)"', html).group(1)
        path = url.split("?")[0]
        html = client.get(path + count_url.replace("&amp;", "&"),
                          HTTP_HX_REQUEST="true").content.decode()
        found = re.search(r'data-testid="result-count"[^>]*>([^<]*)<', html)
    return found.group(1)


def result_count(client, url: str, params: dict | None = None) -> int:
    return int(re.sub(r"\D", "", result_count_text(client, url, params)))
