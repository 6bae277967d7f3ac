"""Bad requests: a clear message at the JSON path, the right status, nothing half-written."""

import pytest
from django.db.models import ProtectedError
from django.test import Client

from spinui.models import Application, AuditEntry
from tests.spinui.api_support import api_client, send_json

APPS = "/api/v1/applications"
HELLO = "/api/v1/applications/hello"


@pytest.fixture
def client(admin, application) -> Client:
    return api_client(admin)


def assert_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "message", "details"}
    assert body["error"] == error
    assert body["message"]
    return body


def paths(body: dict) -> dict[str, list[str]]:
    return {detail["path"]: detail["errors"] for detail in body["details"]}


def assert_nothing_written(application: Application) -> None:
    assert list(Application.objects.values_list("name", flat=True)) == ["hello"]
    application.refresh_from_db()
    assert (application.email, application.description) == ("team@example.com", "Hi")
    assert application.attributes == {}
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("method, path", [("POST", APPS), ("PATCH", HELLO)])
def test_malformed_json_is_refused_with_its_line_and_column(client, application, method, path):
    raw = '{\n  "name": "shop",\n  "email" "a@example.com"\n}'

    response = getattr(client, method.lower())(path, raw, content_type="application/json")

    body = assert_error(response, 400, "malformed_json")
    assert "line 3, column 11" in body["message"]
    assert_nothing_written(application)


def test_an_empty_body_is_refused_as_empty(client, application):
    # The test client drops the content type of an empty body unless it is given as is.
    response = client.generic("POST", APPS, b"", CONTENT_TYPE="application/json")

    assert "body is empty" in assert_error(response, 400, "malformed_json")["message"]


def test_a_body_that_is_not_utf8_is_refused_with_the_offset(client, application):
    response = client.post(APPS, b'{"name": "caf\xe9"}', content_type="application/json")

    assert "offset 13" in assert_error(response, 400, "malformed_json")["message"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_refused(client, application, constant):
    raw = f'{{"name": "shop", "email": "a@example.com", "weight": {constant}}}'

    response = client.post(APPS, raw, content_type="application/json")

    assert constant in assert_error(response, 400, "malformed_json")["message"]
    assert_nothing_written(application)


@pytest.mark.parametrize("number", ["1e400", "-1e400", "9" * 5000])
def test_numbers_too_large_to_store_are_refused(client, application, number):
    raw = f'{{"name": "shop", "email": "a@example.com", "weight": {number}}}'

    response = client.post(APPS, raw, content_type="application/json")

    assert "too large" in assert_error(response, 400, "malformed_json")["message"]
    assert_nothing_written(application)


def test_ordinary_numbers_are_kept_as_given(client):
    raw = '{"name": "shop", "email": "a@example.com", "n": [0, -7, 2.5, 1e3, 123456789012345678]}'

    assert client.post(APPS, raw, content_type="application/json").status_code == 201
    assert Application.objects.get(name="shop").attributes == {
        "n": [0, -7, 2.5, 1000.0, 123456789012345678]
    }


def test_a_body_nested_past_the_parsers_depth_is_refused(client, application):
    raw = '{"deep": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = client.post(APPS, raw, content_type="application/json")

    assert_error(response, 400, "malformed_json")
    assert_nothing_written(application)


def test_attributes_nested_too_deeply_to_store_are_refused_at_their_path(client, application):
    raw = '{"name": "shop", "email": "a@example.com", "deep": ' + "[" * 80 + "]" * 80 + "}"

    response = client.post(APPS, raw, content_type="application/json")

    body = assert_error(response, 422, "invalid")
    [(path, errors)] = paths(body).items()
    assert path.startswith("/deep/0/0/")
    assert "64 levels" in errors[0]
    assert_nothing_written(application)


@pytest.mark.parametrize("raw", ["[]", '"shop"', "42", "null"])
def test_a_body_that_is_not_an_object_is_refused(client, application, raw):
    response = client.post(APPS, raw, content_type="application/json")

    assert paths(assert_error(response, 422, "invalid")) == {"": ["Send a JSON object."]}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""],
)
@pytest.mark.parametrize("method, path", [("POST", APPS), ("PATCH", HELLO)])
def test_a_body_not_sent_as_json_is_refused(client, application, content_type, method, path):
    raw = '{"name": "shop", "email": "a@example.com", "description": "x"}'

    response = getattr(client, method.lower())(path, raw, content_type=content_type)

    assert "application/json" in assert_error(response, 415, "unsupported_media_type")["message"]
    assert_nothing_written(application)


def test_json_in_another_charset_is_refused(client, application):
    raw = '{"name": "shop", "email": "a@example.com"}'.encode("utf-16")

    response = client.generic("POST", APPS, raw, content_type="application/json; charset=utf-16")

    assert "UTF-8" in assert_error(response, 415, "unsupported_media_type")["message"]


def test_json_with_a_utf8_charset_parameter_is_accepted(client):
    raw = '{"name": "shop", "email": "a@example.com", "description": "Café"}'

    response = client.post(APPS, raw, content_type="application/json; charset=UTF-8")

    assert response.status_code == 201
    assert Application.objects.get(name="shop").description == "Café"


@pytest.mark.parametrize("method, path", [("POST", APPS), ("PATCH", HELLO)])
def test_a_body_over_the_limit_is_refused(client, application, settings, method, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"name": "shop", "email": "a@example.com", "description": "x" * 1000}

    response = send_json(client, method, path, body)

    assert "1000 bytes" in assert_error(response, 413, "payload_too_large")["message"]
    assert_nothing_written(application)


def test_a_body_at_the_limit_is_accepted(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    head = '{"name": "shop", "email": "a@example.com", "description": "'
    raw = head + "x" * (1000 - len(head) - 2) + '"}'
    assert len(raw) == 1000

    assert client.post(APPS, raw, content_type="application/json").status_code == 201


@pytest.mark.parametrize(
    "name, message",
    [
        ("hello-world", "lowercase letters and digits"),
        ("Hello", "lowercase letters and digits"),
        ("", "cannot be blank"),
        ("a" * 64, "at most 63 characters"),
    ],
)
def test_an_invalid_name_is_refused_at_its_path(client, application, name, message):
    response = send_json(client, "POST", APPS, {"name": name, "email": "a@example.com"})

    errors = paths(assert_error(response, 422, "invalid"))
    assert list(errors) == ["/name"]
    assert message in " ".join(errors["/name"])
    assert_nothing_written(application)


def test_every_invalid_field_is_reported_at_once(client, application):
    response = send_json(client, "POST", APPS, {"name": "Bad-Name", "email": "not an email"})

    assert set(paths(assert_error(response, 422, "invalid"))) == {"/name", "/email"}
    assert_nothing_written(application)


def test_missing_fields_are_reported_at_their_paths(client, application):
    response = send_json(client, "POST", APPS, {"description": "no name, no email"})

    assert set(paths(assert_error(response, 422, "invalid"))) == {"/name", "/email"}


@pytest.mark.parametrize("value", [5, None, ["a"], {"a": 1}, True])
@pytest.mark.parametrize("field", ["name", "email", "description"])
def test_fields_spinui_owns_must_be_strings(client, application, field, value):
    body = {"name": "shop", "email": "a@example.com", field: value}

    response = send_json(client, "POST", APPS, body)

    assert paths(assert_error(response, 422, "invalid")) == {f"/{field}": ["Give a string."]}
    assert_nothing_written(application)


def test_nested_attributes_are_refused_with_a_hint(client, application):
    body = {"name": "shop", "email": "a@example.com", "attributes": {"repoType": "github"}}

    response = send_json(client, "POST", APPS, body)

    assert "top level" in paths(assert_error(response, 422, "invalid"))["/attributes"][0]


@pytest.mark.parametrize(
    "raw, path",
    [
        ('{"description": "a\\u0000b"}', "/description"),
        ('{"pipelines": [{"x": "\\u0000"}]}', "/pipelines/0/x"),
        ('{"a/b~c": "\\u0000"}', "/a~1b~0c"),
        ('{"bad\\u0000key": 1}', "/bad\x00key"),
        ('{"description": "\\ud800"}', "/description"),
        ('{"tags": ["ok", "\\udfff"]}', "/tags/1"),
    ],
)
def test_characters_no_database_can_store_are_refused_at_their_path(client, application, raw, path):
    response = client.patch(HELLO, raw, content_type="application/json")

    assert list(paths(assert_error(response, 422, "invalid"))) == [path]
    assert_nothing_written(application)


def test_a_duplicate_name_is_a_conflict(client, application):
    response = send_json(client, "POST", APPS, {"name": "hello", "email": "new@example.com"})

    body = assert_error(response, 409, "conflict")
    assert "'hello' already exists" in body["message"]
    assert paths(body) == {"/name": ["This name is taken."]}
    assert_nothing_written(application)


def test_a_name_taken_between_validation_and_insert_is_a_conflict(client, application, monkeypatch):
    # As if another request inserted the name after this one's uniqueness check.
    monkeypatch.setattr(Application, "validate_unique", lambda self, exclude=None: None)

    response = send_json(client, "POST", APPS, {"name": "hello", "email": "new@example.com"})

    assert_error(response, 409, "conflict")
    assert_nothing_written(application)
    assert client.get(HELLO).status_code == 200


def test_renaming_is_refused_at_the_name(client, application):
    response = send_json(client, "PATCH", HELLO, {"name": "bye", "description": "changed"})

    assert "cannot change" in paths(assert_error(response, 422, "invalid"))["/name"][0]
    assert_nothing_written(application)


def test_a_rename_is_reported_together_with_the_other_invalid_fields(client, application):
    response = send_json(client, "PATCH", HELLO, {"name": "bye", "email": "nope"})

    assert set(paths(assert_error(response, 422, "invalid"))) == {"/name", "/email"}
    assert_nothing_written(application)


def test_an_invalid_patch_changes_nothing(client, application):
    response = send_json(
        client, "PATCH", HELLO, {"email": "nope", "description": "changed", "repoType": "x"}
    )

    assert list(paths(assert_error(response, 422, "invalid"))) == ["/email"]
    assert_nothing_written(application)


def test_a_delete_refused_because_of_use_says_what_uses_it(
    client, application, account, monkeypatch
):
    def refuse(self, *args, **kwargs):
        raise ProtectedError("still referenced", {account})

    monkeypatch.setattr(Application, "delete", refuse)

    response = client.delete(HELLO)

    body = assert_error(response, 409, "in_use")
    assert "account dev" in body["message"]
    assert paths(body) == {"": ["account dev"]}
    assert_nothing_written(application)


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("PUT", HELLO, "GET, PATCH, DELETE"),
        ("POST", HELLO, "GET, PATCH, DELETE"),
        ("DELETE", APPS, "GET, POST"),
        ("PUT", APPS, "GET, POST"),
        ("POST", "/api/v1/credentials", "GET"),
        ("DELETE", "/api/v1/openapi.json", "GET"),
    ],
)
def test_a_method_a_route_lacks_is_refused_with_the_allowed_ones(
    client, application, method, path, allowed
):
    response = getattr(client, method.lower())(path)

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == allowed
    assert_nothing_written(application)


@pytest.mark.parametrize(
    "path", ["/api/v1/", "/api/v1/nothing", "/api/v1/applications/", "/api/v1/applications/a/b"]
)
def test_an_unknown_api_path_is_a_json_404(client, path):
    assert "openapi.json" in assert_error(client.get(path), 404, "not_found")["message"]
