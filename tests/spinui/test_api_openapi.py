import re

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from spinui.openapi import openapi_document

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# The catch-all that answers other paths with a JSON 404 is not an operation.
UNDOCUMENTED = {"api_not_found"}


def routes(patterns, prefix: str = ""):
    """Every (path, view) the URL resolver serves, its converters as OpenAPI {params}."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), pattern


def api_routes():
    return [
        (path, pattern)
        for path, pattern in routes(get_resolver().url_patterns)
        if path.startswith("/api/v1/") and pattern.name not in UNDOCUMENTED
    ]


def test_the_document_is_served_without_a_token(db):
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.json() == openapi_document()
    assert response.json()["openapi"] == "3.1.0"


def test_every_api_route_is_in_the_document_with_its_methods():
    documented = openapi_document()["paths"]
    found = api_routes()

    assert len(found) >= 4
    for path, pattern in found:
        assert path in documented, f"{path} is routed but not in spinui/openapi.py"
        methods = {method.lower() for method in pattern.callback.allowed_methods}
        assert set(documented[path]) & HTTP_METHODS == methods, path


def test_the_document_describes_no_route_that_does_not_exist():
    routed = {path for path, _ in api_routes()}

    assert set(openapi_document()["paths"]) == routed


def test_every_path_parameter_is_declared():
    for path, item in openapi_document()["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        declared = {parameter["name"] for parameter in item.get("parameters", [])}
        assert names == declared, path


def test_every_operation_answers_with_described_responses():
    for path, item in openapi_document()["paths"].items():
        for method in set(item) & HTTP_METHODS:
            operation = item[method]
            assert operation["operationId"], (path, method)
            assert operation["responses"], (path, method)
            for status, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status), (path, method, status)
                assert response["description"], (path, method, status)


def test_every_reference_resolves():
    document = openapi_document()

    def references(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from references(value)
        elif isinstance(node, list):
            for value in node:
                yield from references(value)

    for reference in references(document):
        target = document
        for part in reference.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), reference
