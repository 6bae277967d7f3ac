"""A server-group stage naming an account or a region that does not exist is refused when
the pipeline is saved, at the field's JSON path; an expression is left to the stage's start."""

from django.contrib.auth.models import User
from guardian.shortcuts import assign_perm

from spinui.models import Account, Region
from tests.pipelines.test_pipeline_config import app, bob, errors_of, save  # noqa: F401


def _dev_account() -> None:
    account = Account.objects.create(name="dev", environment="dev")
    Region.objects.create(account=account, name="dev", url="http://127.0.0.1:1")


def resize(**fields) -> dict:
    return {
        "refId": "1",
        "type": "resizeServerGroup",
        "cluster": "hello",
        "target": "current_asg_dynamic",
        "capacity": {"desired": 2},
        **fields,
    }


def test_an_unknown_account_is_refused_at_its_path(app, bob):  # noqa: F811
    _dev_account()
    errors = errors_of(app, bob, stages=[resize(credentials="staging", regions=["dev"])])
    assert errors == {"/stages/0/credentials": ["no account 'staging'"]}


def test_a_region_the_account_does_not_have_is_refused_at_its_index(app, bob):  # noqa: F811
    _dev_account()
    errors = errors_of(app, bob, stages=[resize(credentials="dev", regions=["dev", "prod"])])
    assert errors == {"/stages/0/regions/1": ["account 'dev' has no region 'prod'"]}


def test_a_create_into_an_unknown_region_is_refused(app, bob):  # noqa: F811
    _dev_account()
    create = {"refId": "1", "type": "createServerGroup", "account": "dev", "region": "qa"}
    create["docker"] = {"image": {"imageId": "spinui/hello:1.0"}}
    errors = errors_of(app, bob, stages=[create])
    assert errors == {"/stages/0/region": ["account 'dev' has no region 'qa'"]}


def test_a_known_place_or_an_expression_saves(app, bob):  # noqa: F811
    _dev_account()
    save(app, bob, name="known", stages=[resize(credentials="dev", regions=["dev"])])
    later = resize(credentials="${parameters.account}", regions=["dev"])
    save(app, bob, name="expression", stages=[later])


def test_a_trigger_running_as_a_user_without_write_on_a_deploys_account_is_refused(
    app,  # noqa: F811
    bob,  # noqa: F811
):
    _dev_account()
    robot = User.objects.create_user("deploy-bot")
    bob.is_superuser = True
    bob.save()
    deploy = {
        "refId": "1",
        "type": "deploy",
        "clusters": [
            {
                "account": "dev",
                "region": "dev",
                "capacity": {"desired": 1},
                "docker": {"image": {"imageId": "spinui/hello:1.0"}},
            }
        ],
    }
    triggers = [{"type": "docker", "enabled": True, "runAsUser": "deploy-bot"}]
    errors = errors_of(
        app,
        bob,
        stages=[deploy, resize(refId="2", credentials="dev", regions=["dev"])],
        triggers=triggers,
    )
    refused = "deploy-bot, who trigger 0 runs as, may not change account dev (WRITE needed)"
    assert errors == {
        "/stages/0/clusters/0/account": [refused],
        "/stages/1/credentials": [refused],
    }
    assign_perm("write_account", robot, Account.objects.get(name="dev"))
    save(app, bob, stages=[deploy], triggers=triggers)
