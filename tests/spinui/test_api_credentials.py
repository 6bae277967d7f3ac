from django.db import connection

from spinui.models import Account, Region
from tests.spinui.api_support import api_client


def test_credentials_list_accounts_with_their_regions(admin, account):
    Region.objects.create(account=account, name="backup", url="https://dcos-b.example/")

    response = api_client(admin).get("/api/v1/credentials")

    assert response.status_code == 200
    assert response.json() == [
        {
            "name": "dev",
            "environment": "dev",
            "type": "dcos",
            "regions": [
                {"name": "backup", "url": "https://dcos-b.example/"},
                {"name": "dev", "url": "http://127.0.0.1:18080"},
            ],
        }
    ]


def test_an_account_without_regions_is_listed_with_none(admin):
    Account.objects.create(name="empty", environment="test")

    [listed] = api_client(admin).get("/api/v1/credentials").json()

    assert listed["regions"] == []


def test_a_region_url_is_shown_without_user_info_query_or_fragment(admin, account):
    Region.objects.create(
        account=account,
        name="secured",
        url="https://ops:hunter2@dcos.example:8443/base?token=abc#frag",
    )

    response = api_client(admin).get("/api/v1/credentials")

    regions = {region["name"]: region["url"] for region in response.json()[0]["regions"]}
    assert regions["secured"] == "https://dcos.example:8443/base"
    assert b"hunter2" not in response.content
    assert b"token=abc" not in response.content


def test_an_ipv6_region_url_keeps_its_brackets(admin, account):
    Region.objects.create(account=account, name="six", url="http://[::1]:18080")

    [listed] = api_client(admin).get("/api/v1/credentials").json()

    assert {"name": "six", "url": "http://[::1]:18080"} in listed["regions"]


def test_credentials_cost_the_same_queries_for_many_accounts(admin, django_assert_max_num_queries):
    for i in range(20):
        account = Account.objects.create(name=f"acct{i}", environment="dev")
        for j in range(3):
            Region.objects.create(account=account, name=f"r{j}", url=f"http://10.0.{i}.{j}")
    client = api_client(admin)

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/credentials")

    assert len(response.json()) == 20
    assert all(len(listed["regions"]) == 3 for listed in response.json())


def test_credentials_do_not_even_load_region_secrets(admin, account):
    # A secret no key decrypts would fail the request if the view loaded it.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE spinui_region SET secret = %s", ["not-a-fernet-token"])

    response = api_client(admin).get("/api/v1/credentials")

    assert response.status_code == 200
    assert b"not-a-fernet-token" not in response.content
