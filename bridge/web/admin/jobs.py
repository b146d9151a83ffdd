"""``/admin/v1/jobs``: look at the queue and replay dead jobs."""

from __future__ import annotations

from flask import current_app, jsonify, request

from bridge.db.engine import session_scope
from bridge.errors import BadRequest
from bridge.jobs import admin
from bridge.web.admin import bp

# Ids are 64-bit; a larger number cannot name a job (and would overflow the database driver): 404.
MAX_JOB_ID = 2**63 - 1


@bp.get("/jobs")
def list_jobs():  # type: ignore[no-untyped-def]
    state = request.args.get("state")
    try:
        limit = int(request.args.get("limit", "50"))
    except ValueError:
        raise BadRequest("limit must be an integer") from None
    with session_scope(current_app.extensions["bridge"].sessions) as session:
        jobs = admin.list_jobs(session, state=state, kind=request.args.get("kind"), limit=limit)
        return jsonify({"jobs": [job.model_dump(mode="json") for job in jobs]})


@bp.get(f"/jobs/<int(max={MAX_JOB_ID}):job_id>")
def show_job(job_id: int):  # type: ignore[no-untyped-def]
    with session_scope(current_app.extensions["bridge"].sessions) as session:
        return jsonify(admin.show_job(session, job_id).model_dump(mode="json"))


@bp.post(f"/jobs/<int(max={MAX_JOB_ID}):job_id>/retry")
def retry_job(job_id: int):  # type: ignore[no-untyped-def]
    with session_scope(current_app.extensions["bridge"].sessions) as session:
        return jsonify(admin.retry_job(session, job_id).model_dump(mode="json"))
