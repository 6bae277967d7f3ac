"""The clusters page: account → cluster → region → server groups, from the cache only."""

import pytest
from django.urls import reverse

from spinui.models import Region
from spinui.permissions import READ

from .conftest import cached, marathon_app, region_of


@pytest.fixture
def regions(db):
    return {
        "dev": region_of(None, account="dev", cluster="east", url="http://east.invalid"),
        "prod": region_of(None, account="prod", cluster="west", url="http://west.invalid"),
    }


def url(*args, **query) -> str:
    from urllib.parse import urlencode

    return reverse("application_clusters", args=["hello"]) + (
        "?" + urlencode(query) if query else ""
    )


def test_server_groups_are_grouped_and_newest_first(client, admin, hello, regions):
    cached(
        regions["dev"],
        [
            marathon_app("/dev/hello-prod-v001", instances=2, healths=[True, False]),
            marathon_app("/dev/hello-prod-v002", instances=0),
            marathon_app("/dev/web/hello-v000", instances=1),
            marathon_app("/dev/hello-legacy", instances=1),
            marathon_app("/dev/other-v000", instances=1),
        ],
    )
    cached(regions["prod"], [marathon_app("/prod/hello-prod-v007", deployments=[{"id": "d-1"}])])
    client.force_login(admin)

    response = client.get(url())

    assert response.status_code == 200
    page = response.content.decode()
    accounts = response.context["accounts"]
    assert [a.name for a in accounts] == ["dev", "prod"]
    dev = {c.name: c for c in accounts[0].clusters}
    assert list(dev) == ["hello", "hello-legacy", "hello-prod"]
    assert [r.name for r in dev["hello"].regions] == ["east_web"]
    assert [sg.name for sg in dev["hello-prod"].server_groups] == [
        "hello-prod-v002",
        "hello-prod-v001",
    ]
    assert "other-v000" not in page
    assert page.count('class="sq up"') >= 1 and 'class="sq down"' in page
    assert "disabled</span>" in page  # v002 is scaled to zero
    assert "deploying</span>" in page  # v007 has a deployment
    assert "not spinui's</span>" in page  # hello-legacy has no version
    assert 'href="/applications/hello/serverGroups/dev/east/hello-prod-v001/"' in page


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"account": "prod"}, {"hello-prod-v007"}),
        ({"region": "east_web"}, {"hello-v000"}),
        ({"stack": "prod"}, {"hello-prod-v001", "hello-prod-v002", "hello-prod-v007"}),
        ({"status": "disabled"}, {"hello-prod-v002"}),
        ({"status": "down"}, {"hello-prod-v001"}),
        ({"q": "V007"}, {"hello-prod-v007"}),
    ],
)
def test_filters_narrow_what_is_shown(client, admin, hello, regions, query, expected):
    cached(
        regions["dev"],
        [
            marathon_app("/dev/hello-prod-v001", instances=2, healths=[True, False]),
            marathon_app("/dev/hello-prod-v002", instances=0),
            marathon_app("/dev/web/hello-v000"),
        ],
    )
    cached(regions["prod"], [marathon_app("/prod/hello-prod-v007")])
    client.force_login(admin)

    response = client.get(url(**query))

    shown = {
        sg.name
        for account in response.context["accounts"]
        for cluster in account.clusters
        for sg in cluster.server_groups
    }
    assert shown == expected


def test_server_groups_of_accounts_the_user_cannot_read_are_left_out(
    client, make_user, hello, regions
):
    cached(regions["dev"], [marathon_app("/dev/hello-v000")])
    cached(regions["prod"], [marathon_app("/prod/hello-v001")])
    dev = regions["dev"].account
    client.force_login(make_user("ann", {hello: [READ], dev: [READ]}))

    response = client.get(url())

    assert [a.name for a in response.context["accounts"]] == ["dev"]
    assert "hello-v001" not in response.content.decode()


def test_an_application_the_user_cannot_read_is_not_found(client, make_user, hello, regions):
    client.force_login(make_user("bob"))

    assert client.get(url()).status_code == 404


def test_an_unreachable_region_shows_when_it_was_last_seen_and_why(client, admin, hello, regions):
    from django.utils import timezone

    from spinui.models import RegionStatus

    cached(regions["dev"], [marathon_app("/dev/hello-v000")])
    RegionStatus.objects.filter(region=regions["dev"]).update(
        error="Cannot connect to east.invalid: Connection refused", failed_at=timezone.now()
    )
    client.force_login(admin)

    page = client.get(url()).content.decode()

    assert "Region <b>dev/east</b> cannot be read: Cannot connect to east.invalid" in page
    assert "Last seen" in page
    assert "hello-v000" in page


def test_polling_gets_304_until_something_changes(client, admin, hello, regions):
    cached(regions["dev"], [marathon_app("/dev/hello-v000")])
    client.force_login(admin)
    first = client.get(url(), headers={"HX-Request": "true"})
    etag = first["ETag"]

    unchanged = client.get(url(), headers={"HX-Request": "true", "If-None-Match": etag})
    assert unchanged.status_code == 304

    cached(regions["dev"], [marathon_app("/dev/hello-v000", instances=2)])
    changed = client.get(url(), headers={"HX-Request": "true", "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.content.decode().lstrip().startswith('<section id="clusters"')


def test_many_clusters_start_collapsed_and_expand_on_demand(
    client, admin, hello, regions, settings
):
    settings.SPINUI_CLUSTERS_COLLAPSE_ABOVE = 2
    cached(regions["dev"], [marathon_app(f"/dev/hello-s{n}-v000") for n in range(3)])
    client.force_login(admin)

    page = client.get(url(), {"open": "dev:hello-s1"})

    clusters = page.context["accounts"][0].clusters
    assert [c.open for c in clusters] == [False, True, False]
    assert "hello-s0-v000" not in page.content.decode()
    body = client.get(url(cluster="dev:hello-s0"), headers={"HX-Request": "true"})
    assert body.status_code == 200
    assert "hello-s0-v000" in body.content.decode()
    assert "hello-s1-v000" not in body.content.decode()


def test_the_page_takes_a_fixed_number_of_queries_however_many_rows(
    client, make_user, hello, regions, django_assert_max_num_queries
):
    for region in Region.objects.all():
        account = region.account.name
        cached(
            region,
            [
                marathon_app(f"/{account}/hello-s{n}-v{v:03d}", instances=3)
                for n in range(50)
                for v in range(4)
            ],
        )
    client.force_login(
        make_user("ann", {hello: [READ]} | {r.account: [READ] for r in regions.values()})
    )

    with django_assert_max_num_queries(12):
        response = client.get(url())

    assert response.context["server_group_count"] == 400


def test_health_squares_escape_what_marathon_reports():
    from spinui.templatetags.infrastructure import health_squares

    html = health_squares([{"health": "Up", "host": '<script>"x"</script>', "port": 1}])

    assert "<script>" not in html
    assert html == (
        '<span class="sq up" title="Up &lt;script&gt;&quot;x&quot;&lt;/script&gt;:1"></span>'
    )


def test_after_the_sequence_wraps_the_newest_config_comes_first(client, admin, hello, regions):
    cached(
        regions["dev"],
        [
            marathon_app(
                "/dev/hello-v999", versionInfo={"lastConfigChangeAt": "2026-11-20T10:00:00Z"}
            ),
            marathon_app(
                "/dev/hello-v000", versionInfo={"lastConfigChangeAt": "2026-11-26T10:00:00Z"}
            ),
        ],
    )
    client.force_login(admin)

    [cluster] = client.get(url()).context["accounts"][0].clusters

    assert [sg.name for sg in cluster.server_groups] == ["hello-v000", "hello-v999"]
