"""Re-encrypt every stored secret under the newest key of SPINUI_ENCRYPTION_KEYS.

Rotation: put the new key first in SPINUI_ENCRYPTION_KEYS (keep the old ones after it), restart,
run this, then the old keys may be dropped.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from spinui.crypto import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the newest encryption key."

    def handle(self, *args, **options) -> None:
        total = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            with transaction.atomic():
                # Loading decrypts with whichever key fits; storing encrypts with the newest.
                for obj in model.objects.select_for_update().only("pk", *fields):
                    model.objects.filter(pk=obj.pk).update(
                        **{name: getattr(obj, name) for name in fields}
                    )
                    total += 1
        self.stdout.write(f"Re-encrypted the secrets of {total} objects under the newest key.")
