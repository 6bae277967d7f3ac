"""The expressions real pipelines use, with the values Spinnaker gives for them.

The root is a "Deploy to prod" stage of a docker-triggered execution (see conftest.py):
context keys, upstream outputs, Evaluate Variables values, trigger, parameters, stages.
"""

import pytest
from django.test import override_settings

from pipelines.expressions import ExpressionError, evaluate_template

from .conftest import allowing


class Raises:
    """An expected ExpressionError whose message contains ``fragment``."""

    def __init__(self, fragment: str) -> None:
        self.fragment = fragment

    def __repr__(self) -> str:
        return f"Raises({self.fragment!r})"


TABLE = [
    # Trigger fields, as docker and Jenkins triggers put them.
    ("${trigger.tag}", "v1.4.2"),
    ("${trigger['tag']}", "v1.4.2"),
    ("acme/web:${trigger.tag}", "acme/web:v1.4.2"),
    ("${trigger.repository}:${trigger.tag}", "acme/web:v1.4.2"),
    ("${trigger.type == 'docker'}", True),
    ("${trigger.tag.startsWith('v1.')}", True),
    ("${trigger.tag.substring(1)}", "1.4.2"),
    ("${trigger.tag.replace('v', '')}", "1.4.2"),
    ("${trigger.tag.split('\\.')[0]}", "v1"),
    ("${trigger.tag.split('\\.').size()}", 3),
    ("${trigger.tag matches 'v\\d+\\.\\d+\\.\\d+'}", True),
    ("${trigger.tag.matches('v1.*')}", True),
    ("${trigger.tag.matches('1.*')}", False),
    ("${trigger.buildInfo.number}", 812),
    ("${trigger.buildInfo.number + 1}", 813),
    ("build-${trigger.buildInfo.number}", "build-812"),
    ("${trigger.user}", "alice@example.com"),
    ("${trigger.artifacts.?[type == 'docker/image'][0].reference}", "acme/web:v1.4.2"),
    ("${trigger.artifacts.^[type == 'github/file'].name}", "deploy.yml"),
    ("${trigger.artifacts.![name]}", ["acme/web", "deploy.yml"]),
    ("${trigger.artifacts.size()}", 2),
    ("${trigger?.tag}", "v1.4.2"),
    ("${trigger.tag.length()}", 6),
    ("${trigger.tag.toUpperCase()}", "V1.4.2"),
    ("${trigger.tag.indexOf('.')}", 2),
    ("${trigger.tag.contains('4')}", True),
    ("${trigger.tag.endsWith('.2')}", True),
    ("${trigger.tag.isEmpty()}", False),
    ("${trigger.containsKey('tag')}", True),
    ("${trigger.get('tag')}", "v1.4.2"),
    ("${trigger.get('nope')}", None),
    ("${trigger.buildInfo.scm[1].branch}", "feature/login"),
    ("${trigger.tag}-${trigger.buildInfo.number}", "v1.4.2-812"),
    # Missing properties: null under safe navigation or indexing, an error otherwise.
    ("${trigger?.missing}", None),
    ("${trigger?.missing?.deeper}", None),
    ("${trigger['missing']}", None),
    ("${trigger.missing}", Raises("property 'missing' not found")),
    ("${trigger.missing.deeper}", Raises("property 'missing' not found")),
    ("${nothing}", None),
    ("${nothing?.foo}", None),
    ("${nothing.foo}", Raises("cannot read property 'foo' of null")),
    ("${nothing.size()}", Raises("cannot call size() on null")),
    ("${nothing?.size()}", None),
    # Parameters (the trigger's).
    ("${parameters.env}", "prod"),
    ("${parameters['env']}", "prod"),
    ("${parameters.env == 'prod'}", True),
    ("${parameters.env eq 'prod'}", True),
    ("${parameters.env != 'staging'}", True),
    ("${parameters.env ne 'prod'}", False),
    ("${parameters.replicas}", "3"),
    ("${#toInt(parameters.replicas)}", 3),
    ("${#toInt(parameters.replicas) * 2}", 6),
    ("${parameters.replicas + 1}", "31"),
    ("${#toBoolean(parameters.dryRun)}", False),
    ("${#toBoolean(parameters.canary)}", True),
    ("${parameters.canary == 'true' ? 'canary' : 'direct'}", "canary"),
    ("${parameters.regions.split(',')}", ["us-east-1", "us-west-2"]),
    ("${parameters.regions.split(',').size()}", 2),
    ("${'abc'.split('')}", ["a", "b", "c"]),
    ("${'a1b2c'.split('(\\d)')}", ["a", "b", "c"]),
    ("${',a'.split(',')}", ["", "a"]),
    ("${'a,b,c'.split(',', 2)}", ["a", "b,c"]),
    ("${'a,b,,'.split(',', -1)}", ["a", "b", "", ""]),
    ("regions: ${parameters.regions.split(',')}", "regions: us-east-1,us-west-2"),
    ("${parameters.empty ?: 'default'}", "default"),
    ("${parameters['missing'] ?: 'default'}", "default"),
    ("${parameters?.missing ?: 'default'}", "default"),
    ("${parameters.env ?: 'default'}", "prod"),
    ("${parameters.size()}", 6),
    ("${parameters.keySet().contains('env')}", True),
    ("${parameters.containsKey('dryRun') and parameters.dryRun == 'false'}", True),
    ("${parameters.env == 'prod' && parameters.canary == 'true'}", True),
    ("${parameters.env == 'dev' || parameters.env == 'prod'}", True),
    ("${parameters.env == 'dev' or parameters.env == 'qa'}", False),
    ("${!(parameters.env == 'prod')}", False),
    ("${not (parameters.env == 'prod')}", False),
    ("${parameters.env.toUpperCase()}", "PROD"),
    ("${parameters.env matches 'prod|staging'}", True),
    ("${'app-' + parameters.env + '-' + trigger.tag}", "app-prod-v1.4.2"),
    ("${parameters.replicas.equals('3')}", True),
    ("${parameters.replicas.equals(3)}", False),
    # Stage status checks and outputs.
    ("${#stage('Smoke test')['status']}", "SUCCEEDED"),
    ("${#stage('Smoke test').status}", "SUCCEEDED"),
    ("${#stage('Smoke test')['status'] == 'SUCCEEDED'}", True),
    ("${#stage('Smoke test')['status'].toString() == 'SUCCEEDED'}", True),
    ("${#stage('Load test').status == 'TERMINAL'}", True),
    ("${#stage('Smoke test').outputs.testsPassed}", 42),
    ("${#stage('Smoke test')['outputs']['testsFailed'] == 0}", True),
    ("${#stage('Smoke test').context.jobStatus.exitCode}", 0),
    ("${#stage('Smoke test').context.propertyFileContents.passed}", "42"),
    ("${#stage('s-smoke').name}", "Smoke test"),
    ("${#stage('Load test').context.exception.details.error}", "p99 too high"),
    ("${#stage('Nope')}", Raises("Unable to locate [Nope] using #stage(Nope)")),
    ("${#stage(#root.execution, 'Bake').status}", "SUCCEEDED"),
    ("${#stageExists('Bake')}", True),
    ("${#stageExists('Nope')}", False),
    ("${#stageExists('s-bake')}", True),
    ("${#stageByRefId('3').name}", "Smoke test"),
    ("${#stageByRefId('99')}", Raises("Unable to locate [99] using #stageByRefId(99)")),
    ("${#stage('Bake').outputs.imageId}", "ami-123"),
    ("${#currentStage().name}", "Deploy to prod"),
    ("${#currentStage().status}", "RUNNING"),
    (
        "${execution.stages.?[status == 'SUCCEEDED'].![name]}",
        ["Bake", "Deploy to staging", "Smoke test", "Approve", "Set variables"],
    ),
    ("${execution.stages.?[status == 'TERMINAL'].size()}", 1),
    ("${execution.stages.^[type == 'deploy'].name}", "Deploy to staging"),
    ("${execution.stages.$[type == 'deploy'].name}", "Deploy to prod"),
    ("${execution.stages.![refId]}", ["1", "2", "3", "4", "5", "6", "7"]),
    ("${execution.stages.?[type == 'runJob' and status != 'SUCCEEDED'].![name]}", ["Load test"]),
    ("${execution.stages.^[name == 'Nope']}", None),
    ("${execution.stages.?[name == 'Nope']}", []),
    ("${execution.stages.?[#this.type == 'bake'].size() == 1}", True),
    ("${execution.stages.size()}", 7),
    ("${execution.id}", "01JEXEC"),
    ("${execution.application}", "web"),
    ("${execution['name']}", "Deploy web"),
    ("${execution.stages[0].name}", "Bake"),
    ("${execution.stages['0'].name}", "Bake"),
    ("${execution.stages[7]}", Raises("index 7 is out of range")),
    ("${#root.execution.stages[2].outputs.testsPassed > 40}", True),
    # Manual judgment branching.
    ("${#judgment('Approve')}", "Promote"),
    ("${#judgement('Approve')}", "Promote"),
    ("${#judgment('Approve') == 'Promote'}", True),
    ("${#judgment('Approve') == 'Rollback' ? 'rollback' : 'promote'}", "promote"),
    ("${#judgment('Bake')}", Raises("Unable to locate manual Judgment stage [Bake]")),
    ("${#judgment('Approve').equals('Promote')}", True),
    ("${#stage('Approve').context.judgmentStatus == 'continue'}", True),
    # The stage's own context, upstream outputs and Evaluate Variables values.
    ("${account}", "prod"),
    ("${cluster}-${account}", "web-main-prod"),
    ("${instances}", 3),
    ("${instances * 2}", 6),
    ("${canaryPercent}", 10),
    ("${releaseName}", "web-r42"),
    ("${testsPassed}", 42),
    ("${imageId}", "ami-123"),
    ("${#root.account}", "prod"),
    ("${#root['cluster']}", "web-main"),
    ("${#this.account}", "prod"),
    ("${labels.team}", "payments"),
    ("${labels}", {"team": "payments", "tier": "frontend"}),
    ("x${labels}", "x{team=payments, tier=frontend}"),
    ("${labels.keySet()}", ["team", "tier"]),
    ("${labels.values()}", ["payments", "frontend"]),
    ("${labels.?[value == 'frontend']}", {"tier": "frontend"}),
    ("${labels.![key + '=' + value]}", ["team=payments", "tier=frontend"]),
    ("${ports}", [8080, 9090]),
    ("${ports[1]}", 9090),
    ("${ports.contains(8080)}", True),
    ("${ports.indexOf(9090)}", 1),
    ("${ports.get(0)}", 8080),
    ("${ports.?[#this > 8500]}", [9090]),
    ("${healthChecks.isEmpty()}", True),
    ("${message.trim()}", "hello world"),
    ("${enabled ? 'on' : 'off'}", "on"),
    ("${ratio * 2}", 5.0),
    ("${scmInfo.branch}", "feature/login"),
    ("${scmInfo.sha1.substring(0, 3)}", "bbb"),
    ("${deployedServerGroups[0].serverGroup}", "web-staging-v007"),
    ("${#deployedServerGroups()[0].region}", "dc-1"),
    ("${#deployedServerGroups('Deploy to staging')[0].account}", "staging"),
    ("${#deployedServerGroups('Bake')}", []),
    ("${#deployedServerGroups()[0].deployments[0].id}", "d1"),
    ("${#deployedServerGroups()[0].capacity.desired}", 1),
    ("${#currentUser()}", "alice@example.com"),
    # Arithmetic with Java's meaning.
    ("${7 / 2}", 3),
    ("${-7 / 2}", -3),
    ("${7 % 3}", 1),
    ("${-7 % 3}", -1),
    ("${7 div 2}", 3),
    ("${7 mod 2}", 1),
    ("${7.0 / 2}", 3.5),
    ("${1 / 0}", Raises("division by zero")),
    ("${1 + 2 * 3}", 7),
    ("${(1 + 2) * 3}", 9),
    ("${2 - 3 - 4}", -5),
    ("${10 / 3 * 3}", 9),
    ("${-ratio}", -2.5),
    ("${0x1F}", 31),
    ("${10L + 1}", 11),
    ("${1.5e3}", 1500.0),
    ("${9223372036854775807 + 1}", Raises("integer overflow")),
    ("${'ab' * 3}", "ababab"),
    # String + anything is text, as in Java.
    ("${'v' + 1}", "v1"),
    ("${1 + 'v'}", "1v"),
    ("${1 + 2 + 'v'}", "3v"),
    ("${'v' + 1 + 2}", "v12"),
    ("${'x' + null}", "xnull"),
    ("${'x' + true}", "xtrue"),
    ("${'r' + 1.5}", "r1.5"),
    ("${'n' + 1e10}", "n1.0E10"),
    ("${'n' + 100.0}", "n100.0"),
    ("${'list ' + ports}", "list [8080, 9090]"),
    ("${true + 1}", Raises("cannot apply '+' to a boolean and an integer")),
    # Comparisons and conditions.
    ("${1 == 1.0}", True),
    ("${1 == '1'}", False),
    ("${1 == true}", False),
    ("${null == null}", True),
    ("${null < 1}", True),
    ("${'a' < 'b'}", True),
    ("${'abc' lt 'abd'}", True),
    ("${3 >= 3 and 2 le 1}", False),
    ("${5 gt 4}", True),
    ("${4 GE 5}", False),
    ("${1 < 'a'}", Raises("cannot compare an integer with a string")),
    ("${true and 1}", Raises("must be true or false")),
    ("${'true' ? 1 : 2}", 1),
    ("${TRUE}", True),
    ("${null}", None),
    ("${#this == #root}", True),
    # Literals.
    ("${{1, 2, 3}}", [1, 2, 3]),
    ("${{}}", []),
    ("${{:}}", {}),
    ("${{a: 1, 'b-c': 'x'}}", {"a": 1, "b-c": "x"}),
    ("${{a: {b: {1, 2}}}.a.b[1]}", 2),
    ("${{1, 2, 3}.![#this * 10]}", [10, 20, 30]),
    ("${{'a', 'b'}.contains('b')}", True),
    ("${'it''s'}", "it's"),
    ('${"say ""hi"""}', 'say "hi"'),
    ("${'}'}", "}"),
    ("${{'a': '}'}['a']}", "}"),
    ("cost: $5 and ${instances}", "cost: $5 and 3"),
    ("text only", "text only"),
    ("${trigger['missing']} tail", "${trigger['missing']} tail"),
    # Helper functions.
    ("${#toJson(labels)}", '{"team":"payments","tier":"frontend"}'),
    ("${#toJson(ports)}", "[8080,9090]"),
    ("${#toJson({'cmd': '${x}'})}", Raises("the result cannot contain an expression")),
    ("${#readJson('{\"a\": [1, 2]}').a[1]}", 2),
    ("${#readJson('[1,2]').size()}", 2),
    ("${#readJson('not json')}", Raises("#readJson(not json) failed")),
    ("${#readYaml('a: 1\nb: [x, y]').b[1]}", "y"),
    ("${#toFloat('2.5') * 2}", 5.0),
    ("${#toInt('x')}", Raises("#toInt(x) failed")),
    ("${#toFloat('1e400')}", Raises("not a finite number")),
    ("${#toBase64('hello')}", "aGVsbG8="),
    ("${#fromBase64('aGVsbG8=')}", "hello"),
    ("${#alphanumerical('feature/login-2')}", "featurelogin2"),
    ("${#alphanumerical(scmInfo.branch)}", "featurelogin"),
    ("${#doNotEval('${trigger.tag}')}", "${trigger.tag}"),
    ("${#toBoolean('TRUE')}", True),
    ("${#toBoolean('yes')}", False),
    ("${#pipelineId('Deploy web')}", Raises("#pipelineId() needs the pipeline store")),
    ("${#unknown()}", Raises("unknown function #unknown")),
    ("${#stage}", Raises("#stage is a function")),
    # T(...) for the types and methods pipelines use.
    ("${T(java.lang.Math).max(instances, 5)}", 5),
    ("${T(Math).min(2, 1.5)}", 1.5),
    ("${T(java.lang.Math).round(2.5)}", 3),
    ("${T(java.lang.Math).round(-2.5)}", -2),
    ("${T(java.lang.Integer).parseInt(parameters.replicas) + 1}", 4),
    ("${T(java.lang.String).format('%s-%03d', cluster, 7)}", "web-main-007"),
    ("${T(java.time.LocalDate).now().length()}", 10),
    ("${T(java.util.UUID).randomUUID().toString().length()}", 36),
    ("${T(java.lang.Long).parseLong('1')}", Raises("allowed by Spinnaker but not supported")),
    ("${T(String).join('/', {'a', 'b'})}", "a/b"),
    ("${','.join(',', parameters.regions.split(','))}", "us-east-1,us-west-2"),
    # Syntax errors say where.
    ("${trigger.}", Raises("ends too early")),
    ("${trigger.tag", Raises("never closed")),
    ("${ }", Raises("the expression is empty")),
    ("${1 +* 2}", Raises("unexpected")),
]


@pytest.mark.parametrize(("template", "expected"), TABLE, ids=[row[0][:60] for row in TABLE])
def test_each_expression_gives_the_value_spinnaker_gives(template, expected, root, environment):
    if isinstance(expected, Raises):
        with pytest.raises(ExpressionError, match=None) as caught:
            evaluate_template(template, root, environment=environment)
        assert expected.fragment in caught.value.message
        assert caught.value.column is not None and caught.value.column >= 1
        return
    value = evaluate_template(template, root, environment=environment)
    assert value == expected
    assert type(value) is type(expected)


def test_the_table_has_at_least_150_expressions():
    assert len(TABLE) >= 150


URL_TABLE = [
    ("${#jsonFromUrl('BASE/config.json').replicas}", 4),
    ("${#jsonFromUrl('BASE/config.json').image.tag}", "v9"),
    ("${#jsonFromUrl('BASE/config.json').regions.size()}", 2),
    ("${#jsonFromUrl('BASE/list.json').![name]}", ["a", "b"]),
    ("${#yamlFromUrl('BASE/config.yaml').replicas}", 5),
    ("${#yamlFromUrl('BASE/config.yaml').labels.team}", "payments"),
    ("${#yamlFromUrl('BASE/config.yaml').enabled}", True),
    ("${#propertiesFromUrl('BASE/app.properties').version}", "1.2.3"),
    ("${#propertiesFromUrl('BASE/app.properties').name}", "web"),
    ("${#propertiesFromUrl('BASE/app.properties').multi}", "one two"),
    ("${#propertiesFromUrl('BASE/app.properties').empty}", ""),
    ("${#fromUrl('BASE/version.txt').trim()}", "v2.0.1"),
    ("image-${#fromUrl('BASE/version.txt').trim()}", "image-v2.0.1"),
    ("${#fromUrl('BASE/redirect?to=/version.txt').trim()}", "v2.0.1"),
    ("${#fromUrl('BASE/missing')}", Raises("answered HTTP 404")),
]


@pytest.mark.parametrize(("template", "expected"), URL_TABLE, ids=[r[0][:60] for r in URL_TABLE])
def test_url_helpers_read_from_a_host_the_allow_list_names(template, expected, config_server):
    template = template.replace("BASE", config_server.url("").rstrip("/"))
    environment = allowing(f"127.0.0.1:{config_server.port}")
    if isinstance(expected, Raises):
        with pytest.raises(ExpressionError) as caught:
            evaluate_template(template, {}, environment=environment)
        assert expected.fragment in caught.value.message
        return
    value = evaluate_template(template, {}, environment=environment)
    assert value == expected
    assert type(value) is type(expected)


def test_url_helpers_use_the_allow_list_from_settings(config_server):
    template = f"${{#jsonFromUrl('{config_server.url('/config.json')}').replicas}}"
    with override_settings(SPINUI_EXPRESSION_URL_ALLOWLIST=[f"127.0.0.1:{config_server.port}"]):
        assert evaluate_template(template, {}) == 4


def test_url_helpers_fetch_nothing_with_the_default_empty_allow_list(config_server):
    template = f"${{#fromUrl('{config_server.url('/version.txt')}')}}"
    with pytest.raises(ExpressionError, match="no host is on SPINUI_EXPRESSION_URL_ALLOWLIST"):
        evaluate_template(template, {})
    assert config_server.hits == []


def test_a_body_larger_than_the_cap_is_refused(config_server):
    from pipelines.expressions import Limits

    template = f"${{#fromUrl('{config_server.url('/big')}')}}"
    environment = allowing(f"127.0.0.1:{config_server.port}")
    with pytest.raises(ExpressionError, match="sent more than 100000 bytes"):
        evaluate_template(
            template, {}, environment=environment, limits=Limits(url_max_bytes=100_000)
        )
