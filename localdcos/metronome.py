"""Metronome's v1 REST API over one cluster's Jobs (reference §2)."""

from __future__ import annotations

import json

from .apps import Invalid
from .jobs import JobRun, Jobs, normalize_job
from .web import Request, Response, json_response

EMBEDS = ("activeRuns", "history", "historySummary", "schedules")


def unknown_route(request: Request) -> Response:
    return json_response(404, {"message": "Unknown route.", "requestPath": request.path})


def unknown_job(job_id: str) -> Response:
    return json_response(404, {"id": job_id, "message": "Job not found"})


def unknown_run(job_id: str, run_id: str) -> Response:
    return json_response(404, {"jobSpec": job_id, "id": run_id, "message": "Job Run not found"})


class MetronomeApi:
    def __init__(self, jobs: Jobs):
        self.jobs = jobs

    async def handle(self, request: Request, path: str) -> Response:
        """`path` starts at /v1 (the /service/metronome prefix already taken off)."""
        parts = [p for p in path.split("/") if p][1:]
        method = request.method
        if not parts or parts[0] != "jobs":
            return unknown_route(request)
        try:
            if len(parts) == 1:
                if method == "GET":
                    return self.list_jobs(request)
                if method == "POST":
                    return self.create_job(request)
                return unknown_route(request)
            job_id = parts[1]
            if len(parts) == 2:
                if method == "GET":
                    return self.get_job(request, job_id)
                if method == "PUT":
                    return self.update_job(request, job_id)
                if method == "DELETE":
                    return self.delete_job(request, job_id)
                return unknown_route(request)
            if parts[2] != "runs":
                return unknown_route(request)
            if len(parts) == 3:
                if method == "GET":
                    return self.list_runs(job_id)
                if method == "POST":
                    return self.start_run(job_id)
                return unknown_route(request)
            run_id = parts[3]
            if len(parts) == 4 and method == "GET":
                return self.get_run(job_id, run_id)
            if parts[4:] == ["actions", "stop"] and method == "POST":
                return self.stop_run(job_id, run_id)
            return unknown_route(request)
        except InvalidBody as error:
            return error.response
        except Invalid as error:
            return json_response(422, {"message": "Object is not valid", "details": error.details})

    # ---- jobs --------------------------------------------------------------------------

    def job_json(self, job_id: str, embeds: set[str]) -> dict:
        body = dict(self.jobs.specs[job_id])
        if "schedules" in embeds:
            body["schedules"] = []
        if "activeRuns" in embeds:
            body["activeRuns"] = [r.to_json() for r in self.jobs.runs[job_id].values()]
        history = self.jobs.history[job_id]
        if "history" in embeds:
            body["history"] = history
        if "historySummary" in embeds:
            body["historySummary"] = {
                key: history[key]
                for key in ("successCount", "failureCount", "lastSuccessAt", "lastFailureAt")
            }
        return body

    @staticmethod
    def embeds(request: Request) -> set[str]:
        return {value for value in request.query.get("embed", []) if value in EMBEDS}

    def list_jobs(self, request: Request) -> Response:
        embeds = self.embeds(request)
        return json_response(200, [self.job_json(job_id, embeds) for job_id in self.jobs.specs])

    def get_job(self, request: Request, job_id: str) -> Response:
        if job_id not in self.jobs.specs:
            return unknown_job(job_id)
        return json_response(200, self.job_json(job_id, self.embeds(request)))

    def create_job(self, request: Request) -> Response:
        spec = normalize_job(parse_body(request))
        if spec["id"] in self.jobs.specs:
            return json_response(409, {"message": "Job with this id already exists"})
        self.jobs.create(spec)
        return json_response(201, spec)

    def update_job(self, request: Request, job_id: str) -> Response:
        spec = normalize_job(parse_body(request), job_id)
        if job_id not in self.jobs.specs:
            return unknown_job(job_id)
        self.jobs.update(spec)
        return json_response(200, spec)

    def delete_job(self, request: Request, job_id: str) -> Response:
        if job_id not in self.jobs.specs:
            return unknown_job(job_id)
        if self.jobs.runs[job_id] and not request.flag("stopCurrentJobRuns"):
            return json_response(
                409,
                {"message": "There are active job runs. Override with stopCurrentJobRuns=true"},
            )
        return json_response(200, self.jobs.delete(job_id))

    # ---- runs --------------------------------------------------------------------------

    def list_runs(self, job_id: str) -> Response:
        if job_id not in self.jobs.specs:
            return unknown_job(job_id)
        return json_response(200, [r.to_json() for r in self.jobs.runs[job_id].values()])

    def start_run(self, job_id: str) -> Response:
        if job_id not in self.jobs.specs:
            return unknown_job(job_id)
        run = self.jobs.start(job_id)
        # the answer is the run as it was created, before it was queued
        return json_response(201, run.to_json(status="INITIAL"))

    def _run(self, job_id: str, run_id: str) -> JobRun | None:
        return self.jobs.runs.get(job_id, {}).get(run_id)

    def get_run(self, job_id: str, run_id: str) -> Response:
        run = self._run(job_id, run_id)
        if run is None:
            return unknown_run(job_id, run_id)
        return json_response(200, run.to_json())

    def stop_run(self, job_id: str, run_id: str) -> Response:
        if job_id not in self.jobs.specs:
            return unknown_job(job_id)
        run = self._run(job_id, run_id)
        if run is None:
            return unknown_run(job_id, run_id)
        self.jobs.stop(run)
        return json_response(200, run.to_json())


class InvalidBody(Exception):
    def __init__(self, response: Response):
        self.response = response


def parse_body(request: Request):
    """The JSON body, or Play's 400 for a body that is not JSON."""
    try:
        return json.loads(request.body, parse_constant=_no_constants)
    except (ValueError, RecursionError) as error:
        raise InvalidBody(
            json_response(400, {"message": f"Invalid Json: {error}", "requestPath": request.path})
        ) from None


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")
