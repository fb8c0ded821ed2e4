"""Create a shop and its owner, for the platform operator.

The owner is a new account without a usable password, or an existing account (a person who
already works in another shop) named by username *and* email. The command prints a one-time
link for the owner to choose a password; nobody else ever knows it.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from crm import services


class Command(BaseCommand):
    help = "Create a shop (tenant) and its owner; print a link for the owner to set a password."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The shop's name, e.g. 'Cửa hàng Mộc'")
        parser.add_argument("--slug", required=True, help="Short name: letters, digits, -")
        parser.add_argument("--owner-username", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--base-url", default="http://127.0.0.1:8000",
                            help="Where the backoffice is served, for the link "
                                 "(default http://127.0.0.1:8000)")

    def handle(self, *args, **options):
        username, email = options["owner_username"].strip(), options["owner_email"].strip()
        try:
            with transaction.atomic():
                owner, created = self._owner(username, email)
                tenant = services.tenant_create(name=options["name"].strip(),
                                                slug=options["slug"].strip(), owner=owner)
        except ValidationError as error:
            raise CommandError("; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in
                error.message_dict.items()) if hasattr(error, "error_dict")
                else " ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(
            f"Created shop '{tenant.name}' ({tenant.slug}), owner {owner.get_username()}"
            f"{'' if created else ' (existing account)'}."))
        if owner.has_usable_password():
            self.stdout.write("The owner signs in with their existing password.")
            return
        link = services.set_password_url(owner, options["base_url"])
        self.stdout.write("Send this one-time link to the owner to choose a password "
                          "(it works once, for a few days):")
        self.stdout.write(link)

    def _owner(self, username: str, email: str):
        User = get_user_model()  # noqa: N806
        user = User.objects.filter(username__iexact=username).first()
        if user is not None:
            if (user.email or "").casefold() != email.casefold():
                raise CommandError(f"A user '{user.get_username()}' exists with another email: "
                                   "type that account's email, or choose another username.")
            return user, False
        user = User(username=username, email=email)
        user.set_unusable_password()
        user.full_clean()
        user.save()
        return user, True
