"""Small text rules shared by every app."""

import unicodedata


def initials(name: str) -> str:
    """The letter of an initials avatar, one rule for staff and customers: the first letter
    of the given name, which in a Vietnamese name is the last word, as Vietnamese apps show it
    ("Nguyễn Văn Đức" -> "Đ", "Trần Thị Thu Hà" -> "H"); "?" without a name."""
    words = unicodedata.normalize("NFC", name or "").split()
    return words[-1][:1].upper() if words else "?"
