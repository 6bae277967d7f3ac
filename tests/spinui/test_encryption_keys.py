from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from spinui.models import Region


def stored_secret(region: Region) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM spinui_region WHERE id = %s", [region.pk])
        return cursor.fetchone()[0]


def test_an_old_key_still_decrypts_after_a_new_one_is_put_first(settings, account):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SPINUI_ENCRYPTION_KEYS = [old]
    region = Region.objects.create(account=account, name="r1", url="https://x", secret="s3cr3t")
    settings.SPINUI_ENCRYPTION_KEYS = [new, old]
    assert Region.objects.get(pk=region.pk).secret == "s3cr3t"


def test_rotation_reencrypts_under_the_newest_key_so_old_keys_can_go(settings, account, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SPINUI_ENCRYPTION_KEYS = [old]
    region = Region.objects.create(account=account, name="r1", url="https://x", secret="s3cr3t")
    settings.SPINUI_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_keys")
    assert "Re-encrypted the secrets of 2 objects" in capsys.readouterr().out
    assert Fernet(new).decrypt(stored_secret(region).encode()) == b"s3cr3t"
    settings.SPINUI_ENCRYPTION_KEYS = [new]
    assert Region.objects.get(pk=region.pk).secret == "s3cr3t"
