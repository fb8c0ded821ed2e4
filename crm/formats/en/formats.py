# The shop works in dd/mm/yyyy and đồng whatever the interface language is.
from crm.formats.vi.formats import *  # noqa: F403
