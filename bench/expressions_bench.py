"""Pipeline expressions: a typical stage config with 20 expressions, after the first parse.

Run: python bench/expressions_bench.py  (prints JSON; target: evaluate_config < 1 ms)
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spinui.settings")

import django  # noqa: E402

django.setup()

from pipelines.expressions import Environment, evaluate_config, stage_scope  # noqa: E402

EXECUTION = {
    "id": "01JBENCH",
    "application": "web",
    "trigger": {
        "type": "docker",
        "repository": "acme/web",
        "tag": "v1.4.2",
        "parameters": {"env": "prod", "replicas": "3", "canary": "true", "regions": "a,b"},
        "buildInfo": {"number": 812, "scm": [{"branch": "feature/x", "sha1": "bbb222c0ffee"}]},
    },
    "stages": [
        {"id": f"s{i}", "refId": str(i), "name": f"Stage {i}", "type": "wait",
         "status": "SUCCEEDED", "requisiteStageRefIds": [str(i - 1)] if i else [],
         "context": {"waitTime": i}, "outputs": {f"out{i}": i}}
        for i in range(10)
    ]
    + [
        {"id": "judge", "refId": "10", "name": "Approve", "type": "manualJudgment",
         "status": "SUCCEEDED", "requisiteStageRefIds": ["9"],
         "context": {"judgmentInput": "Promote"}, "outputs": {}},
        {"id": "deploy", "refId": "11", "name": "Deploy", "type": "deploy", "status": "RUNNING",
         "requisiteStageRefIds": ["10"], "context": {"account": "prod", "cluster": "web-main",
         "instances": 3, "labels": {"team": "payments"}}, "outputs": {}},
    ],
}  # fmt: skip

CONFIG = {
    "account": "${account}",
    "application": "${execution.application}",
    "cluster": "${cluster}-${parameters.env}",
    "image": "${trigger.repository}:${trigger.tag}",
    "instances": "${#toInt(parameters.replicas) * 2}",
    "canary": "${parameters.canary == 'true'}",
    "regions": "${parameters.regions.split(',')}",
    "labels": {
        "team": "${labels.team}",
        "build": "build-${trigger.buildInfo.number}",
        "branch": "${#alphanumerical(scmInfo.branch)}",
        "sha": "${scmInfo.sha1.substring(0, 7)}",
    },
    "promote": "${#judgment('Approve') == 'Promote'}",
    "previousOk": "${#stage('Stage 9')['status'] == 'SUCCEEDED'}",
    "succeeded": "${execution.stages.?[status == 'SUCCEEDED'].size()}",
    "names": "${execution.stages.![name].size() > 5 ? 'many' : 'few'}",
    "exists": "${#stageExists('Stage 3')}",
    "fallback": "${parameters['missing'] ?: 'default'}",
    "version": "${trigger.tag.replace('v', '')}",
    "env": "${parameters.env.toUpperCase()}",
    "portMath": "${8000 + instances * 10}",
    "static": {"healthCheck": "/health", "ports": [8080]},
}


def count_expressions(value) -> int:
    if isinstance(value, str):
        return value.count("${")
    if isinstance(value, dict):
        return sum(count_expressions(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_expressions(v) for v in value)
    return 0


def main() -> None:
    root = stage_scope(EXECUTION["stages"][-1], EXECUTION)
    environment = Environment(current_stage_id="deploy")
    started = time.perf_counter()
    evaluated, summary = evaluate_config(CONFIG, root, environment=environment)
    first_ms = (time.perf_counter() - started) * 1000
    assert summary == {}, summary
    runs = []
    for _ in range(2000):
        started = time.perf_counter()
        evaluate_config(CONFIG, root, environment=environment)
        runs.append((time.perf_counter() - started) * 1000)
    runs.sort()
    print(
        json.dumps(
            {
                "benchmark": "expressions.evaluate_config",
                "expressions": count_expressions(CONFIG),
                "first_evaluation_with_parse_ms": round(first_ms, 3),
                "median_ms": round(statistics.median(runs), 4),
                "p95_ms": round(runs[int(len(runs) * 0.95)], 4),
                "target_ms": 1.0,
                "python": sys.version.split()[0],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
