"""Signals lower apps send so higher apps can act (DESIGN.md: crm imports no app)."""

from django.dispatch import Signal

# Sent inside the transaction that creates a shop; receivers seed their default lists.
# kwargs: tenant
tenant_created = Signal()
