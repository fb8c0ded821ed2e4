"""POST /api/v1/orders: sales channels send their orders (and re-send them to update).

Authentication: ``Authorization: Bearer kh_<prefix>_<secret>`` with a key created in
Settings › API keys; the key decides the shop. Idempotent on (channel, external_id): a
re-post of a known order updates its status and paid amount and answers 200; a new one
answers 201, also when the same order arrives several times at once. ``points_redeemed``
(a new order of a known customer, the shop running a loyalty program) takes the points'
value off the computed total; more than the customer's balance is a 400 on that field
and nothing is saved. Errors answer 400
with {"errors": {"field": ["message", ...]}}, 413 for a body over API_MAX_BODY_BYTES and
429 over the rate limit (counted per key, or per address without a valid key).

Every number and string is bounded here, before a service sees it: a value the database
cannot hold must be a 400 naming the field, never a 500 or a silently cut string.
"""

import json

from django import forms
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.validators import (
    MaxLengthValidator,
    ProhibitNullCharactersValidator,
    validate_email,
)
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from crm import access
from crm.services import api_key_authenticate
from customers.models import Source
from customers.normalize import normalize_phone

from . import services
from .models import Order, OrderLine, OrderStatus

MAX_LINES = 500
MAX_QUANTITY = 100_000
# 10^12 đồng (a thousand billion) for any amount: far above a real order, far below a
# bigint column (9.2 x 10^18). The lines' sum, up to 500 x 100.000 x 10^12, is checked
# in Python before a service adds it up and stores it.
MAX_AMOUNT = 10**12
# The payload itself needs 3 levels (body > lines > line); extra keys a channel sends
# along are ignored, but they are parsed, so their nesting is bounded too.
MAX_DEPTH = 20
MAX_BODY_BYTES = 1_000_000  # default of settings.API_MAX_BODY_BYTES
# Points a channel may use on one order: a billion, far above any balance (the loyalty
# app refuses more than the customer has); their value times it still fits a bigint.
MAX_POINTS = 10**9
RATE = "120/m"
FIRST_YEAR, LAST_YEAR = 2000, 2099


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


# The contact's API names and the order columns they are stored in.
CONTACT_FIELDS = {"name": "contact_name", "phone": "contact_phone",
                  "email": "contact_email", "address": "contact_address"}


class OrderPayloadForm(forms.Form):
    channel = forms.CharField(max_length=_max_length(Source, "code"))
    external_id = forms.CharField(max_length=_max_length(Order, "external_id"))
    status = forms.ChoiceField(choices=[c for c in OrderStatus.choices
                                        if c[0] != OrderStatus.RETURNED])
    ordered_at = forms.CharField(max_length=40)
    delivered_at = forms.CharField(max_length=40, required=False)
    total_amount = forms.IntegerField(min_value=0, max_value=MAX_AMOUNT, required=False)
    discount = forms.IntegerField(min_value=0, max_value=MAX_AMOUNT, required=False)
    shipping_fee = forms.IntegerField(min_value=0, max_value=MAX_AMOUNT, required=False)
    paid_amount = forms.IntegerField(min_value=0, max_value=MAX_AMOUNT, required=False)
    note = forms.CharField(max_length=2000, required=False)

    def _moment(self, name):
        raw = self.cleaned_data.get(name)
        if not raw:
            return None
        try:
            value = parse_datetime(raw)
        except ValueError:  # well formed but impossible: 30 February, offset +99:00
            value = None
        if value is None:
            raise ValidationError(_("Use ISO 8601, e.g. 2026-11-25T14:05:00+07:00."))
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            # Year 1 at +07:00 is before datetime.min in UTC: it could not be stored.
            raise ValidationError(_("Must be between the years %(first)d and %(last)d.")
                                  % {"first": FIRST_YEAR, "last": LAST_YEAR})
        return value if timezone.is_aware(value) else timezone.make_aware(value)

    def clean_ordered_at(self):
        return self._moment("ordered_at")

    def clean_delivered_at(self):
        return self._moment("delivered_at")


def _errors(errors: dict, status=400):
    return JsonResponse({"errors": errors}, status=status)


def _whole_number(value, minimum: int, maximum: int) -> list[str]:
    if isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum:
        return []
    return [_("Must be a whole number from %(min)d to %(max)d.")
            % {"min": minimum, "max": maximum}]


def _text(value, max_length: int, errors: dict, field: str) -> str:
    """``value`` as stored text, or "" with the reason in ``errors[field]``.

    Too long is refused, not cut: a cut SKU or phone would be stored as another value.
    """
    if value is None:
        return ""
    if isinstance(value, dict | list | bool):
        errors[field] = [_("Must be text.")]
        return ""
    text = str(value).strip()
    try:
        ProhibitNullCharactersValidator()(text)  # PostgreSQL cannot store NUL
        MaxLengthValidator(max_length)(text)
    except ValidationError as exc:
        errors[field] = exc.messages
        return ""
    return text


def _contact(payload, errors) -> dict:
    contact = payload.get("contact") or {}
    if not isinstance(contact, dict):
        errors["contact"] = [_("Must be an object with name, phone, email, address.")]
        return {}
    clean = {name: _text(contact.get(name), _max_length(Order, column), errors,
                         f"contact.{name}")
             for name, column in CONTACT_FIELDS.items()}
    if clean["phone"]:
        try:
            normalize_phone(clean["phone"])
        except ValidationError as exc:
            errors["contact.phone"] = exc.messages
    if clean["email"]:
        try:
            validate_email(clean["email"])
        except ValidationError:
            errors["contact.email"] = [_("Enter a valid email address.")]
    return clean


def _lines(payload, errors) -> list[dict]:
    lines = payload.get("lines") or []
    if not isinstance(lines, list) or len(lines) > MAX_LINES:
        errors["lines"] = [_("Must be a list of at most %(n)d lines.") % {"n": MAX_LINES}]
        return []
    clean = []
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            errors[f"lines[{i}]"] = [_("Must be an object.")]
            continue
        name = _text(line.get("product_name"), _max_length(OrderLine, "product_name"),
                     errors, f"lines[{i}].product_name")
        if not name and f"lines[{i}].product_name" not in errors:
            errors[f"lines[{i}].product_name"] = [_("This field is required.")]
        sku = _text(line.get("sku"), _max_length(OrderLine, "sku"), errors, f"lines[{i}].sku")
        for field, minimum, maximum in (("quantity", 1, MAX_QUANTITY),
                                        ("unit_price", 0, MAX_AMOUNT)):
            if problems := _whole_number(line.get(field), minimum, maximum):
                errors[f"lines[{i}].{field}"] = problems
        clean.append({"product_name": name, "sku": sku,
                      "quantity": line.get("quantity"), "unit_price": line.get("unit_price")})
    return clean


def _amounts(data: dict, lines: list[dict], errors: dict) -> None:
    """The sums the service would compute stay within the bounds of one amount."""
    lines_total = sum(line["quantity"] * line["unit_price"] for line in lines)
    too_much = [_("Adds up to more than %(max)d đồng.") % {"max": MAX_AMOUNT}]
    if lines_total > MAX_AMOUNT:
        errors["lines"] = too_much
    elif data.get("total_amount") is None and lines:
        total = lines_total - (data.get("discount") or 0) + (data.get("shipping_fee") or 0)
        if total < 0:
            errors["discount"] = [_("The discount is more than the lines and the shipping fee.")]
        elif total > MAX_AMOUNT:
            errors["shipping_fee"] = too_much


def _too_deep(value) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))
    return False


def _rate_limited(request, key) -> bool:
    """Count per key, whatever the header looks like; without a valid key, per address.

    The key's prefix names it: unique, never reused (a primary key can be, e.g. after a
    rolled-back insert on SQLite) and known without another query.
    """
    if key is not None:
        return is_ratelimited(request, group="orders.api.key", key=lambda group, r: key.prefix,
                              rate=RATE, increment=True)
    return is_ratelimited(request, group="orders.api.address", key="ip", rate=RATE,
                          increment=True)


def _body_limit() -> int:
    limit = getattr(settings, "API_MAX_BODY_BYTES", MAX_BODY_BYTES)
    django_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return min(limit, django_limit) if django_limit is not None else limit


def _read_body(request) -> bytes | None:
    """The body, or None when it is over the limit (checked before it is read)."""
    limit = _body_limit()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    try:
        body = request.body
    except RequestDataTooBig:  # Django's own limit: a 413 here too, not its 400 page
        return None
    return body if len(body) <= limit else None


@csrf_exempt
@require_POST
def orders_ingest(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    key = api_key_authenticate(header.removeprefix("Bearer ").strip())
    if _rate_limited(request, key):
        return _errors({"__all__": [_("Too many requests: at most 120 a minute.")]}, 429)
    if key is None:
        return _errors({"__all__": [_("Missing, unknown or revoked API key.")]}, 401)
    tenant = key.tenant
    body = _read_body(request)
    if body is None:
        return _errors({"__all__": [_("The body is larger than %(n)d bytes.")
                                    % {"n": _body_limit()}]}, 413)
    try:
        payload = json.loads(body or b"")
    except RecursionError:
        return _errors({"__all__": [_("The body is nested too deeply (at most %(n)d levels).")
                                    % {"n": MAX_DEPTH}]})
    except (ValueError, UnicodeDecodeError):  # ValueError: also a number of 4300+ digits
        return _errors({"__all__": [_("The body is not valid JSON.")]})
    if not isinstance(payload, dict):
        return _errors({"__all__": [_("The body must be a JSON object.")]})
    if _too_deep(payload):
        return _errors({"__all__": [_("The body is nested too deeply (at most %(n)d levels).")
                                    % {"n": MAX_DEPTH}]})

    form = OrderPayloadForm({k: v for k, v in payload.items() if not isinstance(v, dict | list)})
    errors = {} if form.is_valid() else {k: list(v) for k, v in form.errors.items()}
    contact = _contact(payload, errors)
    lines = _lines(payload, errors)
    points = payload.get("points_redeemed")
    if points is not None and (problems := _whole_number(points, 0, MAX_POINTS)):
        errors["points_redeemed"] = problems
    if not errors:
        _amounts(form.cleaned_data, lines, errors)
    channel = None
    if "channel" not in errors:
        channel = services.channel_by_code(tenant, form.cleaned_data["channel"])
        if channel is None:
            errors["channel"] = [_("Unknown channel code for this shop.")]
    if errors:
        return _errors(errors)
    # Points are used when the order is created (a re-post does not change them): the
    # service prices them and the loyalty app refuses more than the customer's balance.
    data = {**form.cleaned_data, "channel": channel, "contact": contact,
            "points_redeemed": points or 0}
    if data.get("total_amount") is None and not lines:
        return _errors({"total_amount": [_("Give total_amount or the lines.")]})
    return _save(tenant, key, data, lines)


def _find(tenant, data) -> Order | None:
    return Order.objects.for_tenant(tenant).filter(
        channel=data["channel"], external_id=data["external_id"]).first()


def _save(tenant, key, data, lines):
    existing = _find(tenant, data)
    if existing is None:
        try:
            with transaction.atomic():
                order = services.order_create(tenant=tenant, actor=access.api_actor(key),
                                              data=data, lines=lines)
            return JsonResponse(_body(order, created=True), status=201)
        except (IntegrityError, ValidationError) as error:
            # The same order arrived several times at once and another request created
            # it: either our insert lost on the unique (tenant, channel, external_id), or
            # full_clean() saw the committed order (or its new walk-in customer's phone)
            # first. Then this request is a re-post like any other.
            existing = _find(tenant, data)
            if existing is None:
                if isinstance(error, IntegrityError):
                    raise
                return _validation_errors(error, 400)
    try:
        with transaction.atomic():
            order = _update(tenant, key, existing, data)
    except ValidationError as error:
        return _validation_errors(error, 409)
    return JsonResponse(_body(order, created=False), status=200)


def _update(tenant, key, order: Order, data: dict) -> Order:
    # Locked first, so that the payment below is the difference to the paid amount of
    # now, not of before a concurrent re-post recorded it (that would pay twice).
    order = Order.objects.select_for_update().get(pk=order.pk)
    actor = access.api_actor(key)
    if data["status"] != order.status:
        order = services.order_set_status(tenant=tenant, actor=actor, order=order,
                                          status=data["status"],
                                          delivered_at=data.get("delivered_at"))
    paid = data.get("paid_amount")
    if paid is not None and paid > order.paid_amount:
        services.order_record_payment(tenant=tenant, actor=actor, order=order,
                                      amount=paid - order.paid_amount,
                                      note=_("Sent by %(key)s") % {"key": key.name})
        order.refresh_from_db()
    return order


def _validation_errors(error: ValidationError, status: int):
    if hasattr(error, "error_dict"):
        return _errors({k: [m for e in v for m in e.messages]
                        for k, v in error.error_dict.items()}, status)
    return _errors({"__all__": error.messages}, status)


def _body(order: Order, *, created: bool) -> dict:
    return {"code": order.code, "status": order.status, "created": created,
            "customer": order.customer.code if order.customer_id else None,
            "total_amount": order.total_amount, "paid_amount": order.paid_amount,
            "points_redeemed": order.points_redeemed, "points_discount": order.points_discount}
