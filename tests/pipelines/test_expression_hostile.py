"""Hostile expressions: each is refused with a clear error, and none of them runs.

Spinnaker's SpEL had remote-code-execution and request-forgery holes; these are the inputs
that exploit such holes, plus Python-specific ones and inputs that try to exhaust resources.
"""

import time

import pytest

from pipelines.expressions import ExpressionError, Limits, evaluate_config, evaluate_template

from .conftest import allowing

CANARY = "/tmp/spinui-expression-canary"  # nothing may ever create this file

CODE_EXECUTION = [
    f"${{T(java.lang.Runtime).getRuntime().exec('touch {CANARY}')}}",
    "${T(Runtime).getRuntime().exec('id')}",
    "${T(java.lang.System).getenv()}",
    "${T(java.lang.System).exit(0)}",
    "${T(java.lang.Class).forName('java.lang.Runtime')}",
    "${T(java.lang.ProcessBuilder)}",
    "${T(java.lang.Thread).sleep(100000)}",
    f"${{new java.lang.ProcessBuilder({{'touch', '{CANARY}'}}).start()}}",
    "${new java.io.File('/etc/passwd').exists()}",
    "${new java.util.Scanner(new java.io.File('/etc/passwd')).next()}",
    "${new java.net.URL('http://169.254.169.254/').openStream()}",
    "${NEW java.lang.String('x')}",
    "${''.getClass().forName('java.lang.Runtime')}",
    "${trigger.getClass().getClassLoader()}",
    "${#root.getClass()}",
    "${#this.class.classLoader}",
    "${T(java.lang.String).class.forName('java.lang.Runtime')}",
    "${T(java.lang.Integer).getInteger('x')}",
    "${T(java.lang.Boolean).getBoolean('x')}",
    "${T(org.springframework.util.ReflectionUtils).findMethod(null, 'x')}",
    "${T(javax.script.ScriptEngineManager)}",
    "${new javax.script.ScriptEngineManager().getEngineByName('js').eval('1')}",
    "${T(java.lang.Math).class}",
    "${T(java.util.UUID).nameUUIDFromBytes(null)}",
    "${#stage('Bake').context.getClass()}",
    "${@systemProperties}",
    "${trigger.tag = 'pwned'}",
    "${#root.execution.stages[0].context = {}}",
    "${#doNotEval(T(java.lang.Runtime))}",
]

PYTHON_ESCAPES = [
    "${''.__class__.__mro__[1].__subclasses__()}",
    "${trigger.__class__}",
    "${trigger.__class__.__init__.__globals__}",
    "${#root.__dict__}",
    "${__import__('os').system('id')}",
    "${#__import__('os')}",
    "${eval('1+1')}",
    "${exec('import os')}",
    "${open('/etc/passwd').read()}",
    "${globals()}",
    "${trigger.tag.__len__()}",
    "${trigger.items()}",
    "${'{0.__class__}'.format(trigger)}",
    "${T(String).format('%1$s', 'x')}",
    "${T(String).format('%(x)s', trigger)}",
    "${T(String).format('%s')}",
    "${lambda: 1}",
    "${[x for x in trigger]}",
    "${trigger\u0000.tag}",
    "${trigger.tag.repeat(1000000000)}",
]

RESOURCE_EXHAUSTION = [
    "${'aaaaaaaaaa' * 1000000000}",
    "${T(String).format('%999999999s', 'x')}",
    "${('x' * 1000000) + ('x' * 1000000) + ('x' * 1000000)}",
    "${'a'.replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa')"
    ".replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa')"
    ".replace('a', 'aaaaaaaaaa')}",
    "${{1,2,3,4,5,6,7,8,9,10}.![{1,2,3,4,5,6,7,8,9,10}.![{1,2,3,4,5,6,7,8,9,10}"
    ".![{1,2,3,4,5,6,7,8,9,10}.![{1,2,3,4,5,6,7,8,9,10}.![#this]]]]]}",
    "${{1,2,3,4,5,6,7,8,9,10}" + ".![{#this,#this}]" * 30 + "}",
    "${#toJson({1,2,3,4,5,6,7,8,9,10}" + ".![{#this,#this}]" * 30 + ")}",
    "${'' + {1,2,3,4,5,6,7,8,9,10}" + ".![{#this,#this}]" * 30 + "}",
    '${#readYaml("a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]")}',
    "${#readYaml('a: &a [*a]')}",
    "${#readJson('" + "[" * 3000 + "]" * 3000 + "')}",
    "${#readJson('" + "[" * 200 + "]" * 200 + "')}",
    "${'" + "a" * 40 + "!' matches '(a|aa)+$'}",
    "${'" + "a" * 40 + "!'.matches('(a|aa)+$')}",
    "${'" + "a" * 40 + "!'.split('(a|aa)+$')}",
    "${'x' matches '" + "a" * 1001 + "'}",
    "${'x' matches '(unclosed'}",
    "${'a' matches '(?:a{65535}){65535}'}",
    "${'a' matches '((a{100}){100}){100}'}",
    "${'a'.split('a{,4294967295}')}",
    "${'a' matches 'a{4294967295}'}",
    "${" + "(" * 200 + "1" + ")" * 200 + "}",
    "${" + "!" * 200 + "true}",
    "${" + "+".join(["1"] * 3000) + "}",
    "${{" + ",".join(["1"] * 2500) + "}}",
    "${" + "x" * 10_001 + "}",
    "${9223372036854775807 + 1}",
    "${99999999999999999999}",
    "${9223372036854775807 * 9223372036854775807}",
    "${1e308 * 10}",
]


@pytest.mark.parametrize(
    "template",
    CODE_EXECUTION + PYTHON_ESCAPES + RESOURCE_EXHAUSTION,
    ids=[t[:50] for t in CODE_EXECUTION + PYTHON_ESCAPES + RESOURCE_EXHAUSTION],
)
def test_a_hostile_expression_is_refused_with_a_clear_error(template, root, environment):
    started = time.monotonic()
    with pytest.raises(ExpressionError) as caught:
        evaluate_template(template, root, environment=environment)
    assert len(caught.value.message) > 15
    assert caught.value.column is not None and 1 <= caught.value.column <= len(template) + 1
    # Refused promptly, never by running to exhaustion (generous for a loaded machine).
    assert time.monotonic() - started < 5


def test_a_hostile_expression_in_a_config_keeps_its_text_and_is_reported(root, environment):
    config = {"command": CODE_EXECUTION[0], "args": [PYTHON_ESCAPES[0], RESOURCE_EXHAUSTION[0]]}
    evaluated, summary = evaluate_config(config, root, environment=environment)
    assert evaluated == config
    assert len(summary) == 3
    assert all(entry["level"] == "ERROR" for entries in summary.values() for entry in entries)


def test_building_and_dropping_big_values_is_refused_too(root):
    with pytest.raises(ExpressionError, match="built more than 10000000 characters"):
        evaluate_template("${{1,2,3,4,5,6,7,8,9,10,11}.![('x' * 1000000).length()]}", root)


def test_a_config_cannot_grow_past_its_budget_one_expression_at_a_time(root):
    config = {f"field{i}": "${'x' * 1000000}" for i in range(15)}
    evaluated, summary = evaluate_config(config, root)
    grown = [value for value in evaluated.values() if value != "${'x' * 1000000}"]
    assert len(grown) == 10
    assert list(summary) == ["'x' * 1000000"]
    assert "exceed 10000000 characters" in summary["'x' * 1000000"][0]["description"]


def test_no_hostile_expression_ran_anything():
    import os

    assert not os.path.exists(CANARY)


# Request forgery: (template with TRAP for the trap server's port, allow-list, names resolved).
SSRF = [
    ("${#fromUrl('http://169.254.169.254/latest/meta-data/')}", [], None),
    ("${#fromUrl('http://169.254.169.254/latest/meta-data/')}", ["169.254.169.254:80"], None),
    ("${#jsonFromUrl('http://169.254.169.254/computeMetadata/v1/')}", ["169.254.0.0/16:80"], None),
    ("${#fromUrl('http://[fd00:ec2::254]/latest/')}", ["[fd00:ec2::254]:80"], None),
    ("${#fromUrl('http://100.100.100.200/latest/')}", ["100.100.100.200:80"], None),
    ("${#fromUrl('http://[fe80::1]/')}", ["[fe80::/10]:80"], None),
    (
        "${#fromUrl('http://metadata.example.com/')}",
        ["metadata.example.com:80"],
        {"metadata.example.com": ["169.254.169.254"]},
    ),
    (
        "${#fromUrl('http://nat64.example.com/')}",
        ["nat64.example.com:80"],
        {"nat64.example.com": ["64:ff9b::a9fe:a9fe"]},
    ),
    ("${#fromUrl('http://[2002:a9fe:a9fe::1]/')}", ["[2002::/16]:80"], None),
    ("${#fromUrl('http://127.0.0.1:TRAP/')}", [], None),
    ("${#fromUrl('http://127.0.0.1:TRAP/')}", ["127.0.0.1"], None),
    ("${#fromUrl('http://127.0.0.1:TRAP/')}", ["0.0.0.0/0"], None),
    ("${#fromUrl('http://127.0.0.1:TRAP/')}", ["127.0.0.1:1"], None),
    ("${#fromUrl('http://localhost:TRAP/')}", ["localhost"], None),
    ("${#fromUrl('http://[::1]:TRAP/')}", ["localhost:TRAP"], None),
    ("${#fromUrl('http://[::ffff:127.0.0.1]:TRAP/')}", ["127.0.0.1"], None),
    ("${#fromUrl('http://2130706433:TRAP/')}", ["127.0.0.1"], None),
    ("${#fromUrl('http://0x7f000001:TRAP/')}", ["127.0.0.1"], None),
    ("${#fromUrl('http://127.1:TRAP/')}", ["127.0.0.1"], None),
    ("${#fromUrl('http://017700000001:TRAP/')}", ["127.0.0.1"], None),
    ("${#fromUrl('http://0.0.0.0:TRAP/')}", ["0.0.0.0/0"], None),
    ("${#fromUrl('http://[::]:TRAP/')}", ["[::/0]:TRAP"], None),
    (
        "${#fromUrl('http://internal.example.com:TRAP/')}",
        ["internal.example.com"],
        {"internal.example.com": ["127.0.0.1"]},
    ),
    (
        "${#fromUrl('http://mixed.example.com:TRAP/')}",
        ["mixed.example.com"],
        {"mixed.example.com": ["93.184.216.34", "127.0.0.1"]},
    ),
    ("${#fromUrl('file:///etc/passwd')}", ["127.0.0.1:TRAP"], None),
    ("${#fromUrl('gopher://127.0.0.1:TRAP/_INFO')}", ["127.0.0.1:TRAP"], None),
    ("${#fromUrl('ftp://127.0.0.1:TRAP/')}", ["127.0.0.1:TRAP"], None),
    ("${#fromUrl('http://user:pw@127.0.0.1:TRAP/')}", ["127.0.0.1:TRAP"], None),
    ("${#fromUrl('http://127.0.0.1:TRAP\\@example.com/')}", ["127.0.0.1:TRAP"], None),
    ("${#fromUrl('http://evil_host.example.com/')}", ["*.example.com"], None),
    ("${#yamlFromUrl('http://127.0.0.1:TRAP/')}", ["localhost"], None),
    ("${#propertiesFromUrl('http://127.0.0.1:TRAP/')}", ["10.0.0.0/8:TRAP"], None),
]


@pytest.mark.parametrize(("template", "allowlist", "names"), SSRF, ids=[s[0][10:60] for s in SSRF])
def test_a_forged_request_is_refused_and_never_sent(template, allowlist, names, trap_server):
    port = str(trap_server.port)
    resolver = None
    if names is not None:
        resolver = {"resolve": lambda host, _port: names.get(host, [])}
    environment = allowing(
        *[entry.replace("TRAP", port) for entry in allowlist], **(resolver or {})
    )
    with pytest.raises(ExpressionError) as caught:
        evaluate_template(template.replace("TRAP", port), {}, environment=environment)
    assert "failed:" in caught.value.message
    assert trap_server.hits == []


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:TRAP/",
        "http://localhost:TRAP/",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ],
)
def test_a_redirect_from_an_allowed_host_is_checked_again(target, config_server, trap_server):
    target = target.replace("TRAP", str(trap_server.port))
    environment = allowing(f"127.0.0.1:{config_server.port}")
    template = f"${{#fromUrl('{config_server.url('/redirect?to=' + target)}')}}"
    with pytest.raises(ExpressionError):
        evaluate_template(template, {}, environment=environment)
    assert len(config_server.hits) == 1
    assert trap_server.hits == []


def test_the_corpus_has_at_least_60_hostile_inputs():
    total = len(CODE_EXECUTION) + len(PYTHON_ESCAPES) + len(RESOURCE_EXHAUSTION) + len(SSRF) + 4
    assert total >= 60


def test_a_slow_regex_is_stopped_by_its_timeout(root):
    limits = Limits(regex_timeout_seconds=0.05)
    started = time.monotonic()
    with pytest.raises(ExpressionError, match="regular expression took longer"):
        evaluate_template("${'" + "a" * 40 + "!' matches '(a|aa)+$'}", root, limits=limits)
    assert time.monotonic() - started < 5


def test_values_are_not_evaluated_twice(root, environment):
    root = dict(root, payload="${T(java.lang.Runtime).getRuntime()}")
    assert evaluate_template("${payload}", root, environment=environment) == root["payload"]
