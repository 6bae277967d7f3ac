"""Spinnaker's names, both ways: server groups, clusters, Marathon ids, regions, sequences."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.dcos.marathon import MarathonClient
from providers.dcos.naming import (
    MarathonAppId,
    NamingError,
    ServerGroupName,
    cluster_name,
    next_sequence,
    parse_region,
    region_name,
)

word = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)
detail = st.from_regex(r"[a-z0-9]{1,5}(-[a-z0-9]{1,5}){0,2}", fullmatch=True)


@given(
    app=word, stack=word | st.just(""), detail=detail | st.just(""), sequence=st.integers(0, 999)
)
def test_a_server_group_name_parses_back_to_its_parts(app, stack, detail, sequence):
    name = ServerGroupName(app, stack, detail, sequence)
    assert ServerGroupName.parse(str(name)) == name


@pytest.mark.parametrize(
    "name,parts,cluster",
    [
        ("hello-v000", ("hello", "", "", 0), "hello"),
        ("hello-prod-v012", ("hello", "prod", "", 12), "hello-prod"),
        (
            "hello-prod-canary-blue-v999",
            ("hello", "prod", "canary-blue", 999),
            "hello-prod-canary-blue",
        ),
        ("hello--canary-v002", ("hello", "", "canary", 2), "hello--canary"),
        ("hello-prod", ("hello", "prod", "", None), "hello-prod"),
    ],
)
def test_it_reads_names_the_way_frigga_does(name, parts, cluster):
    parsed = ServerGroupName.parse(name)
    assert (parsed.application, parsed.stack, parsed.detail, parsed.sequence) == parts
    assert parsed.cluster == cluster
    assert str(parsed) == name


@pytest.mark.parametrize("name", ["Hello-v000", "hello-", "hello_prod-v001", "-v001", "a--v001"])
def test_what_is_not_a_server_group_name_parses_to_none(name):
    assert ServerGroupName.parse(name) is None


def test_a_name_without_a_version_is_not_spinuis():
    assert not ServerGroupName.parse("hello-prod").managed
    assert ServerGroupName.parse("hello-prod-v000").managed


@pytest.mark.parametrize(
    "parts,message",
    [
        (("hello-world",), "application"),
        (("hello", "pro-d"), "stack"),
        (("hello", "prod", "a--b"), "detail"),
    ],
)
def test_a_cluster_name_with_a_bad_part_is_refused(parts, message):
    with pytest.raises(NamingError, match=message):
        cluster_name(*parts)


def test_marathon_ids_and_regions_round_trip():
    app_id = MarathonAppId.build("dev", "east_web_blue", "hello-prod-v001")
    assert str(app_id) == "/dev/web/blue/hello-prod-v001"
    assert app_id.group == "/dev/web/blue"
    assert MarathonAppId.parse(str(app_id)) == app_id
    assert app_id.region("east") == "east_web_blue"
    assert parse_region("east_web_blue") == ("east", ("web", "blue"))
    assert parse_region("east") == ("east", ())
    assert region_name("east", ("web",)) == "east_web"


@pytest.mark.parametrize("app_id", ["/hello-v000", "/Dev/hello-v000", "/dev/hello_v000", "/"])
def test_an_app_outside_any_account_has_no_marathon_app_id(app_id):
    assert MarathonAppId.parse(app_id) is None


def test_the_first_server_group_of_a_cluster_is_v000():
    assert next_sequence([]) == 0
    assert next_sequence([(ServerGroupName("hello", "prod"), None)]) == 0


def test_the_next_sequence_follows_the_latest_config_change_not_the_highest_number():
    now = datetime.now(UTC)
    existing = [
        (ServerGroupName("hello", sequence=7), now - timedelta(hours=2)),
        (ServerGroupName("hello", sequence=2), now),
    ]
    assert next_sequence(existing) == 3


def test_the_sequence_wraps_at_1000_and_skips_taken_numbers():
    now = datetime.now(UTC)
    existing = [
        (ServerGroupName("hello", sequence=999), now),
        (ServerGroupName("hello", sequence=0), now - timedelta(days=9)),
        (ServerGroupName("hello", sequence=1), now - timedelta(days=8)),
    ]
    assert next_sequence(existing) == 2


def test_a_cluster_with_every_number_taken_has_no_next_sequence():
    taken = [(ServerGroupName("hello", sequence=n), None) for n in range(1000)]
    with pytest.raises(NamingError, match="1000"):
        next_sequence(taken)


def test_apps_that_are_not_spinuis_are_read_and_marked_as_such(localdcos):
    localdcos.create({"id": "/dev/hello-v004", "instances": 0})
    localdcos.create({"id": "/dev/hello-legacy", "instances": 0})
    localdcos.create({"id": "/dev/tools/x--y", "instances": 0})

    found = {sg.name: sg for sg in MarathonClient(localdcos.config()).server_groups("dev")}

    assert found["hello-v004"].managed
    legacy = found["hello-legacy"]
    assert not legacy.managed
    assert (legacy.application, legacy.cluster, legacy.sequence) == ("hello", "hello-legacy", None)
    odd = found["x--y"]
    assert not odd.managed and odd.region == "dev_tools"
    # Names come back exactly as Marathon has them, so nothing is renamed by a round trip.
    assert {str(MarathonAppId.parse(sg.app_id)) for sg in found.values()} == {
        "/dev/hello-v004",
        "/dev/hello-legacy",
        "/dev/tools/x--y",
    }


def test_the_next_name_of_a_cluster_comes_from_marathon(localdcos):
    marathon = MarathonClient(localdcos.config())
    cluster = ServerGroupName("hello", "prod")

    assert str(marathon.next_server_group_name("dev", "dev_web", cluster)) == (
        "/dev/web/hello-prod-v000"
    )
    localdcos.create({"id": "/dev/web/hello-prod-v000", "instances": 0})
    localdcos.create({"id": "/dev/web/hello-prod-v001", "instances": 0})
    localdcos.create({"id": "/dev/web/hello-v007", "instances": 0})  # another cluster
    localdcos.create({"id": "/dev/hello-prod-v005", "instances": 0})  # another region

    assert str(marathon.next_server_group_name("dev", "dev_web", cluster)) == (
        "/dev/web/hello-prod-v002"
    )
