"""'Test connection' on the accounts page: what the region's Marathon said, or what failed."""

from django.urls import reverse

from spinui.models import Region

from .conftest import region_of

PASSWORD = "s3cret-pass"


def post(client, region: Region, htmx: bool = True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        reverse("region_test", args=[region.account.name, region.name]), headers=headers
    )


def test_a_reachable_region_reports_marathons_version_and_leader(client, admin, localdcos):
    region = region_of(localdcos)
    client.force_login(admin)

    response = post(client, region)

    text = response.content.decode()
    assert response.status_code == 200
    assert "✓ Marathon 1.10.17, leader 127.0.0.1:" in text


def test_it_logs_in_with_the_regions_credentials(client, admin, start_localdcos):
    server = start_localdcos("--user", f"ops={PASSWORD}")
    region = region_of(server, auth_type="password", uid="ops", secret=PASSWORD)
    client.force_login(admin)

    assert "✓ Marathon" in post(client, region).content.decode()

    region.secret = "wrong"
    region.save()
    text = post(client, region).content.decode()
    assert "✗ Login as &#x27;ops&#x27; refused" in text
    assert "wrong" not in text and PASSWORD not in text


def test_a_name_that_does_not_resolve_is_reported_as_dns(client, admin, db):
    region = region_of(None, url="http://no-such-cluster.invalid")
    client.force_login(admin)

    text = post(client, region).content.decode()

    assert "DNS: cannot resolve host no-such-cluster.invalid" in text


def test_a_certificate_from_another_ca_is_reported_as_tls(client, admin, tls_server):
    url, ca = tls_server
    region = region_of(None, url=url)
    client.force_login(admin)

    assert "TLS failed talking to 127.0.0.1" in post(client, region).content.decode()

    region.ca_certificate = ca
    region.save()
    assert "✓ Marathon" in post(client, region).content.decode()


def test_https_to_a_plain_http_port_times_out(client, admin, localdcos, settings):
    settings.SPINUI_DCOS_READ_TIMEOUT = 0.5
    port = localdcos.ports["dev"]["admin"]
    region = region_of(None, url=f"https://127.0.0.1:{port}")
    client.force_login(admin)

    assert "Timed out waiting for 127.0.0.1 to answer" in post(client, region).content.decode()


def test_a_401_is_reported_as_such(client, admin, start_localdcos):
    server = start_localdcos("--user", f"ops={PASSWORD}")
    region = region_of(server)
    client.force_login(admin)

    assert (
        "401 Unauthorized: the cluster refused the credentials"
        in post(client, region).content.decode()
    )


def test_without_javascript_the_result_is_a_message_on_the_account_page(client, admin, localdcos):
    region = region_of(localdcos)
    client.force_login(admin)

    response = post(client, region, htmx=False)

    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Region dev/dev: Marathon 1.10.17" in page
    assert "Test connection" in page


def test_only_admins_may_test_a_region(client, make_user, localdcos):
    region = region_of(localdcos)
    client.force_login(make_user("ann"))

    assert post(client, region).status_code == 403
