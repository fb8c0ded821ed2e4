from django import template
from django.core.exceptions import ObjectDoesNotExist

register = template.Library()


@register.filter
def stats(customer):
    """The customer's CustomerStats row, or None before their first order. Reading
    ``customer.stats`` in a template raises for a customer without one, and the template
    engine's fallback for that (a dir() of the model) cost a millisecond per list page."""
    try:
        return customer.stats
    except ObjectDoesNotExist:
        return None
