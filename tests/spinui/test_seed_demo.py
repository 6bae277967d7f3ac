from django.contrib.auth.models import Group, User
from django.core.management import call_command

from spinui.models import Account, Application, Region
from spinui.permissions import EXECUTE, READ, WRITE, grants_of, user_can


def test_the_demo_seed_builds_the_demo_and_can_run_again(
    db, settings, tmp_path, monkeypatch, capsys
):
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("SPINUI_ADMIN_PASSWORD", raising=False)
    call_command("seed_demo")
    call_command("seed_demo")
    output = capsys.readouterr().out
    password = (tmp_path / "admin_password").read_text().strip()
    assert f"log in as admin / {password}" in output
    assert User.objects.get(username="admin").check_password(password)
    assert list(Application.objects.values_list("name", flat=True)) == ["hello"]
    assert {(r.account.name, r.name, r.url) for r in Region.objects.all()} == {
        ("dev", "dev", "http://127.0.0.1:18080"),
        ("prod", "prod", "http://127.0.0.1:18081"),
    }
    developers = Group.objects.get(name="developers")
    managers = Group.objects.get(name="release-managers")
    hello = Application.objects.get()
    assert grants_of(hello) == {
        developers: {READ, WRITE, EXECUTE},
        managers: {READ, EXECUTE},
    }
    assert grants_of(Account.objects.get(name="prod")) == {
        developers: {READ},
        managers: {READ, WRITE},
    }


def test_the_admin_password_comes_from_the_environment_when_set(
    db, settings, tmp_path, monkeypatch
):
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("SPINUI_ADMIN_PASSWORD", "chosen-by-me-1")
    call_command("seed_demo")
    admin = User.objects.get(username="admin")
    assert admin.check_password("chosen-by-me-1")
    assert admin.is_superuser
    developer = User.objects.create_user("dora")
    developer.groups.add(Group.objects.get(name="developers"))
    assert user_can(developer, WRITE, Account.objects.get(name="dev"))
    assert not user_can(developer, WRITE, Account.objects.get(name="prod"))
