"""A region that goes away keeps its last rows and says why; when it comes back, it heals."""

from spinui import infrastructure
from spinui.models import RegionStatus, ServerGroup

from .conftest import region_of


def test_a_region_going_away_and_coming_back(localdcos, db):
    localdcos.create({"id": "/dev/hello-v000", "instances": 0})
    region = region_of(localdcos)
    infrastructure.region_refresh(region=region)
    seen = RegionStatus.objects.get(region=region).last_seen_at
    stamp = infrastructure.application_stamp("hello")

    localdcos.stop()
    assert infrastructure.region_refresh(region=region) is None

    status = RegionStatus.objects.get(region=region)
    assert not status.reachable
    assert status.error.startswith("Cannot connect to 127.0.0.1")
    assert status.last_seen_at == seen
    assert ServerGroup.objects.filter(name="hello-v000").exists()
    assert infrastructure.application_stamp("hello") != stamp

    localdcos.restart()
    localdcos.create({"id": "/dev/hello-v001", "instances": 0})
    infrastructure.region_refresh(region=region)

    status.refresh_from_db()
    assert status.reachable and status.last_seen_at > seen
    assert ServerGroup.objects.count() == 2


def test_one_unreachable_region_does_not_stop_the_others(localdcos, db):
    localdcos.create({"id": "/dev/hello-v000", "instances": 0})
    localdcos.create({"id": "/prod/hello-v000", "instances": 0}, cluster="prod")
    region_of(localdcos)
    region_of(localdcos, account="prod", cluster="prod")
    gone = region_of(None, account="prod", cluster="east", url="http://no-such-cluster.invalid")

    results = infrastructure.regions_refresh()

    assert results["prod/east"] is None
    assert results["dev/dev"].created == 1 and results["prod/prod"].created == 1
    assert "DNS: cannot resolve host no-such-cluster.invalid" in gone.status.error
