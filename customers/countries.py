"""The countries a customer's ``country`` (an ISO 3166 alpha-2 code) offers, with names.

A short list of the countries a Vietnamese shop's customers come from, not the whole ISO
table: no country library (babel, pycountry, django-countries) is installed, and a select of
250 names would bury the ten that matter. "ZZ" is ISO's code for "unknown or other".
"""

from django.utils.translation import gettext_lazy as _

COUNTRY_CHOICES = [
    ("VN", _("Vietnam")), ("CN", _("China")), ("KR", _("South Korea")), ("JP", _("Japan")),
    ("TW", _("Taiwan")), ("TH", _("Thailand")), ("LA", _("Laos")), ("KH", _("Cambodia")),
    ("SG", _("Singapore")), ("US", _("United States")), ("ZZ", _("Other")),
]
COUNTRY_NAMES = dict(COUNTRY_CHOICES)


def country_name(code: str) -> str:
    """The country's name in the active language; an unknown code as it is, empty as —."""
    if not code:
        return "—"
    return str(COUNTRY_NAMES.get(code.upper(), code))
