from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from spinui.audit import audit_record
from spinui.models import ApiToken


class Command(BaseCommand):
    help = (
        "Make an API token for USERNAME and print it on stdout. Only its hash is kept: "
        "the token cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'ci'.")
        parser.add_argument(
            "--expires-days", type=int, help="Days until the token expires (default: never)."
        )

    def handle(self, *args, username: str, name: str, expires_days: int | None, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; their tokens would be refused.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        key = ApiToken.new_key()
        token = ApiToken(
            user=user,
            name=name,
            prefix=key[:12],
            key_hash=ApiToken.hash(key),
            expires_at=timezone.now() + timedelta(days=expires_days) if expires_days else None,
        )
        try:
            token.full_clean()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        with transaction.atomic():
            token.save()
            audit_record(
                actor=None,
                actor_name="manage.py create_api_token",
                action="create",
                target_type="apitoken",
                target_name=str(token),
                changes={"user": [None, username], "name": [None, name]},
            )
        expiry = "never expires"
        if token.expires_at is not None:
            expiry = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC"
        self.stderr.write(f"API token for {username} ({expiry}); it is shown only once:")
        self.stdout.write(key)
