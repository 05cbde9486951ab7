"""The HTTP service, exactly as `township_wire.api` describes it.

Every endpoint but `/v1/enrol` (and the status page) checks the request signature of an enrolled
site, its clock and its one-time nonce before doing anything (`head_hospital.replay`), and seals
every answer to the site, echoing the nonce (`head_hospital.answers`). Handlers read the raw body
(the signature covers its sha256) and do their database work in the thread pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from head_hospital import feed, uploads
from head_hospital.answers import SignedRequest, answer, answer_json
from head_hospital.db import HeadDatabase
from head_hospital.enrol_limits import EnrolGate, EnrolLimits
from head_hospital.errors import Refused
from head_hospital.ingest import Ingested
from head_hospital.models import SITE_PENDING, SITE_REVOKED, Site
from head_hospital.replay import accept_request, require_nonce
from head_hospital.sites import enrol, site_keys
from head_hospital.status_page import render_status_page
from township_wire import api
from township_wire.answer import request_line
from township_wire.crypto import SignatureInvalid
from township_wire.errors import UserFacingError
from township_wire.safe_json import JsonRefused, bounded_loads

JSON_BODY_LIMIT = 64 * 1024


def _refuse_auth(db: HeadDatabase, site_id: str | None, code: str, status: int, message: str) -> Refused:
    return db.refusal(Refused(message, code=code, status=status), f"auth_{code}", site_id=(site_id or "")[:64] or None)


def authenticate(db: HeadDatabase, *, method: str, target: str, headers: Mapping[str, str],
                 body: bytes) -> SignedRequest:
    """A correctly signed, fresh request from an approved site; `Refused` (logged) otherwise."""
    site_id = headers.get(api.HEADER_SITE) or ""
    with db.read() as session:
        site = session.get(Site, site_id) if site_id else None
    if site is None:
        raise _refuse_auth(db, site_id, api.CODE_NOT_ENROLLED, 401, f"站点 {site_id or '（未注明）'} 尚未在总院登记。")
    timestamp, nonce = headers.get(api.HEADER_TIME) or "", headers.get(api.HEADER_NONCE) or ""
    keys = site_keys(site)
    require_nonce(db, site_id=site_id, nonce=nonce)
    try:
        api.verify_request(keys, method, target, timestamp, body, headers.get(api.HEADER_SIGNATURE) or "",
                           nonce=nonce)
    except SignatureInvalid as error:
        raise _refuse_auth(db, site_id, api.CODE_BAD_SIGNATURE, 401, "请求签名校验失败：不是由登记的站点密钥签发。") \
            from error
    accept_request(db, site_id=site_id, timestamp=timestamp, nonce=nonce)
    if site.status == SITE_PENDING:
        raise _refuse_auth(db, site_id, api.CODE_NOT_APPROVED, 403, "本站点已登记，尚待总院管理员核对指纹后批准。")
    if site.status == SITE_REVOKED:
        raise _refuse_auth(db, site_id, api.CODE_REVOKED, 403, "本站点的密钥已被总院吊销，请联系总院管理员。")
    return SignedRequest(site_id=site_id, site_keys=keys, nonce=nonce, request=request_line(method, target), body=body)


def _target(request: Request) -> str:
    path = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    query = request.scope.get("query_string") or b""
    return path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(f"请求内容过大（上限 {limit} 字节）。", code=api.CODE_TOO_LARGE, status=413)
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise Refused(f"请求内容过大（上限 {limit} 字节）。", code=api.CODE_TOO_LARGE, status=413)
        parts.append(part)
    return b"".join(parts)


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; 400 for anything else, nesting beyond a bound checked before parsing."""
    try:
        value = bounded_loads(body or b"{}")
    except JsonRefused as error:
        raise Refused(f"请求内容格式错误：{error}", code=api.CODE_REJECTED, status=400) from error
    if not isinstance(value, dict):
        raise Refused("请求内容格式错误：应为 JSON 对象。", code=api.CODE_REJECTED, status=400)
    return value


def _int_param(request: Request, name: str, default: int, *, low: int = 0, high: int | None = None) -> int:
    text = request.query_params.get(name)
    try:
        value = default if text is None else int(text)
    except ValueError as error:
        raise Refused(f"参数 {name} 应为整数。", code=api.CODE_REJECTED) from error
    if value < low:
        raise Refused(f"参数 {name} 不能小于 {low}。", code=api.CODE_REJECTED)
    return min(value, high) if high is not None else value


def create_app(db: HeadDatabase, *, enrol_limits: EnrolLimits | None = None) -> FastAPI:
    """The FastAPI application serving `db` (enrolment limited by `enrol_limits`, the defaults unless given)."""
    app = FastAPI(title="县域医共体总院接收服务", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.db = db
    app.state.enrol_gate = EnrolGate(enrol_limits or EnrolLimits())

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> JSONResponse:
        if not error.logged:
            site_id = (request.headers.get(api.HEADER_SITE) or "")[:64] or None
            await run_in_threadpool(db.refusal, error, f"refused_{error.code}", site_id=site_id)
        wait = error.extra.get("retry_after")
        return JSONResponse(error.body(), status_code=error.status,
                            headers={"Retry-After": str(wait)} if wait is not None else None)

    @app.exception_handler(UserFacingError)
    async def user_facing(request: Request, error: UserFacingError) -> JSONResponse:
        return JSONResponse({"code": api.CODE_REJECTED, "message": error.message}, status_code=422)

    async def signed(request: Request, limit: int = JSON_BODY_LIMIT) -> SignedRequest:
        body = await _read_body(request, limit)
        return await run_in_threadpool(authenticate, db, method=request.method, target=_target(request),
                                       headers=request.headers, body=body)

    _add_site_routes(app, db, signed)
    _add_upload_routes(app, db, signed)

    @app.get("/", response_class=HTMLResponse)
    async def status_page() -> HTMLResponse:
        return HTMLResponse(await run_in_threadpool(render_status_page, db))

    return app


def _add_site_routes(app: FastAPI, db: HeadDatabase, signed) -> None:
    prefix = api.API_PREFIX

    @app.post(f"{prefix}/enrol")
    async def enrol_site(request: Request) -> JSONResponse:
        gate: EnrolGate = app.state.enrol_gate
        gate.admit(request.client.host if request.client else "unknown")
        body = _json_object(await _read_body(request, JSON_BODY_LIMIT))
        return JSONResponse(await run_in_threadpool(enrol, db, body, max_pending=gate.limits.max_pending))

    @app.get(f"{prefix}/state")
    async def state(request: Request) -> Response:
        signed_request = await signed(request)
        return answer(db, signed_request, await run_in_threadpool(feed.state_envelope, db, signed_request.site_id))

    @app.get(f"{prefix}/feed")
    async def feed_page(request: Request) -> Response:
        signed_request = await signed(request)
        after = _int_param(request, "after", 0)
        limit = _int_param(request, "limit", feed.FEED_LIMIT, low=1, high=feed.FEED_MAX)
        page = await run_in_threadpool(feed.feed_envelope, db, signed_request.site_id, after=after, limit=limit)
        return answer(db, signed_request, page)

    @app.get(f"{prefix}/own-records")
    async def own_records(request: Request) -> Response:
        signed_request = await signed(request)
        after = request.query_params.get("after") or ""
        limit = _int_param(request, "limit", feed.RECORDS_LIMIT, low=1, high=feed.RECORDS_MAX)
        page = await run_in_threadpool(feed.own_records_envelope, db, signed_request.site_id, after=after,
                                       limit=limit)
        return answer(db, signed_request, page)


def _add_upload_routes(app: FastAPI, db: HeadDatabase, signed) -> None:
    prefix = f"{api.API_PREFIX}/uploads"

    @app.post(prefix)
    async def declare(request: Request) -> Response:
        signed_request = await signed(request)
        declared = await run_in_threadpool(uploads.declare, db, signed_request.site_id,
                                           _json_object(signed_request.body))
        if declared.receipt is not None:
            return answer(db, signed_request, declared.receipt, status=200)
        return answer_json(db, signed_request, {"offset": declared.offset}, status=201)

    @app.get(prefix + "/{package_id}")
    async def where(request: Request, package_id: str) -> Response:
        signed_request = await signed(request)
        return answer_json(db, signed_request,
                           await run_in_threadpool(uploads.offset, db, signed_request.site_id, package_id))

    @app.patch(prefix + "/{package_id}")
    async def chunk(request: Request, package_id: str) -> Response:
        signed_request = await signed(request, uploads.MAX_CHUNK_BYTES)
        at = await run_in_threadpool(uploads.append_chunk, db, signed_request.site_id, package_id,
                                     at=request.headers.get(api.HEADER_OFFSET),
                                     chunk_sha256=request.headers.get(api.HEADER_CHUNK_SHA), chunk=signed_request.body)
        return answer_json(db, signed_request, {"offset": at}, headers={api.HEADER_OFFSET: str(at)})

    @app.post(prefix + "/{package_id}/commit")
    async def commit(request: Request, package_id: str) -> Response:
        signed_request = await signed(request)
        outcome = await run_in_threadpool(uploads.commit, db, signed_request.site_id, package_id)
        return answer(db, signed_request, outcome.receipt if isinstance(outcome, Ingested) else outcome)
