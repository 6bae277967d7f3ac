import pytest
from django.urls import reverse

from spinui.models import Region

BASE = {
    "name": "east",
    "url": "https://dcos.example",
    "marathon_path": "/service/marathon",
    "metronome_path": "/service/metronome",
    "auth_type": "none",
}


@pytest.fixture
def admin_client(client, admin, account):
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "fields,field,message",
    [
        ({"auth_type": "token"}, "secret", "Give the token."),
        ({"auth_type": "password", "secret": "pw"}, "uid", "This auth type needs a uid."),
        ({"auth_type": "password", "uid": "ops"}, "secret", "Give the password."),
        (
            {"auth_type": "service_account", "uid": "sa", "secret": "not a key"},
            "secret",
            "Give an unencrypted RSA private key in PEM format.",
        ),
        ({"marathon_path": "service/marathon"}, "marathon_path", "Start the path with '/'."),
        ({"url": "not a url"}, "url", "Enter a valid URL."),
        ({"name": "East_1"}, "name", "Use lowercase letters, digits and dashes"),
        ({"name": "dev"}, "__all__", "already exists"),
    ],
)
def test_a_bad_region_is_refused_at_the_field(admin_client, fields, field, message):
    response = admin_client.post(reverse("region_create", args=["dev"]), BASE | fields)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert Region.objects.count() == 1


def test_a_region_defaults_to_dcos_service_paths(admin_client):
    response = admin_client.post(reverse("region_create", args=["dev"]), BASE)
    assert response.status_code == 302
    region = Region.objects.get(name="east")
    assert (region.marathon_path, region.metronome_path) == (
        "/service/marathon",
        "/service/metronome",
    )
    assert str(region) == "dev/east"


def test_deleting_an_account_takes_its_regions(admin_client):
    response = admin_client.post(reverse("account_delete", args=["dev"]))
    assert response.status_code == 302
    assert not Region.objects.exists()
