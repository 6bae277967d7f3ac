"""Image resolution: a Docker Registry HTTP API v2, or the built-in demo catalogue."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HELLO_SCRIPT = str(Path(__file__).with_name("hello.py"))
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)


class ImageError(Exception):
    """The image cannot be pulled; the message is what the task failure reports."""


@dataclass
class ImageConfig:
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    working_dir: str = ""


def split_reference(image: str) -> tuple[str, str]:
    """(repository, tag or digest) with any registry host dropped."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        image = rest
    if "@" in image:
        name, _, reference = image.partition("@")
        return name, reference
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return image, "latest"
    return name, tag


def catalogue(image: str) -> ImageConfig:
    name, tag = split_reference(image)
    if name != "spinui/hello":
        raise ImageError(f"manifest for {image} not found: manifest unknown: manifest unknown")
    return ImageConfig(
        entrypoint=[sys.executable, "-I", HELLO_SCRIPT],
        env=["GREETING=world", f"IMAGE_TAG={tag}"],
    )


def _get_json(url: str, accept: str) -> dict:
    if not url.startswith(("http://", "https://")):
        raise ImageError(f"the registry must be an http(s) URL, not {url}")
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310 - checked above
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def from_registry(registry: str, image: str) -> ImageConfig:
    name, reference = split_reference(image)
    base = registry.rstrip("/")
    try:
        manifest = _get_json(f"{base}/v2/{name}/manifests/{reference}", MANIFEST_TYPES)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise ImageError(
                f"manifest for {image} not found: manifest unknown: manifest unknown"
            ) from None
        raise ImageError(f"Error response from registry for {image}: HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ImageError(f"Error pulling {image}: {error}") from None
    digest = (manifest.get("config") or {}).get("digest")
    if not digest:
        raise ImageError(f"Error pulling {image}: unsupported manifest")
    try:
        blob = _get_json(f"{base}/v2/{name}/blobs/{digest}", "application/json")
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ImageError(f"Error pulling {image}: config blob: {error}") from None
    config = blob.get("config") or {}
    return ImageConfig(
        entrypoint=list(config.get("Entrypoint") or []),
        cmd=list(config.get("Cmd") or []),
        env=list(config.get("Env") or []),
        working_dir=config.get("WorkingDir") or "",
    )


def resolve(registry: str | None, image: str) -> ImageConfig:
    return from_registry(registry, image) if registry else catalogue(image)
