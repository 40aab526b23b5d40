"""admission.k8s.io/v1 AdmissionReview wire format: parse a review, render its answer. Pure.

The envelope is what we must be able to answer at all: a body that is not an AdmissionReview v1 with a
request uid is a 400 with the reason (the API server, under failurePolicy Ignore, then admits the pod as it
is). Inside a well-formed review, anything but the creation of a Pod is simply not ours: `Review.pod` is None.
"""
from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from .protocol import Body, json_type

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"


class ReviewError(ValueError):
    """The body is not an AdmissionReview we can answer; the message says why, for a 400 answer."""


@dataclass(frozen=True, slots=True)
class Review:
    uid: str
    """request.uid, which the answer must echo."""
    pod: Mapping[str, Any] | None
    """The Pod being created, or None when the review is about anything else (another resource, a
    subresource, an update)."""
    dry_run: bool = False
    """request.dryRun: the pod will not be stored (`kubectl --dry-run=server`), so not scheduled either."""


def parse_review(body: Body) -> Review:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise ReviewError(f"body is not valid JSON: {str(err)[:200]}") from None
    if not isinstance(doc, dict):
        raise ReviewError(f"body is a JSON {json_type(doc)}, expected an AdmissionReview object")
    if doc.get("kind") != KIND:
        raise ReviewError(f"kind is {doc.get('kind')!r:.80}, expected {KIND!r}")
    if doc.get("apiVersion") != API_VERSION:
        raise ReviewError(f"apiVersion is {doc.get('apiVersion')!r:.80}, expected {API_VERSION!r} "
                          f"(register the webhook with admissionReviewVersions: [v1])")
    request = doc.get("request")
    if not isinstance(request, dict):
        raise ReviewError(f"request is {json_type(request)}, expected an AdmissionRequest object")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise ReviewError(f"request.uid is {'empty' if uid == '' else json_type(uid)}, expected a non-empty "
                          f"string to echo")
    if not _creates_pod(request):
        return Review(uid, None)
    dry_run = request.get("dryRun") is True
    pod = request["object"]
    for key in ("metadata", "spec"):
        if pod.get(key) is not None and not isinstance(pod[key], dict):
            raise ReviewError(f"request.object.{key} is {json_type(pod[key])}, expected an object")
    return Review(uid, pod, dry_run)


def _creates_pod(request: Mapping[str, Any]) -> bool:
    resource = request.get("resource")
    return (isinstance(resource, dict) and resource.get("group") == "" and resource.get("resource") == "pods"
            and not request.get("subResource") and request.get("operation") == "CREATE"
            and isinstance(request.get("object"), dict))


def render_answer(uid: str, patch: list[dict[str, Any]] | None = None) -> bytes:
    """The AdmissionReview answer allowing the object, with `patch` (JSONPatch operations) if any."""
    response: dict[str, Any] = {"uid": uid, "allowed": True}
    if patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(orjson.dumps(patch)).decode("ascii")
    return orjson.dumps({"apiVersion": API_VERSION, "kind": KIND, "response": response})
