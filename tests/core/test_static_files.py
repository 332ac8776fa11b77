"""core.static_files: Whitenoise's middleware, listing the static files at the first request for
one of them instead of when the process starts (the Lambda cold start)."""

from __future__ import annotations

from types import SimpleNamespace

from django.http import HttpResponse

from core.static_files import LazyWhiteNoiseMiddleware


def _middleware(root, seen: list[str]) -> LazyWhiteNoiseMiddleware:
    def app(request):
        seen.append(request.path)
        return HttpResponse("the app")

    settings = SimpleNamespace(DEBUG=False, STATIC_URL="/static/", STATIC_ROOT=str(root), FORCE_SCRIPT_NAME=None)
    return LazyWhiteNoiseMiddleware(app, settings=settings)


def test_the_files_are_listed_by_the_first_static_request_not_at_start_or_by_other_requests(tmp_path, rf):
    (tmp_path / "site.css").write_text("body { margin: 0 }")
    seen: list[str] = []
    middleware = _middleware(tmp_path, seen)

    assert middleware.files == {}
    assert middleware(rf.get("/api/v1/payments")).content == b"the app"
    assert middleware.files == {} and seen == ["/api/v1/payments"]

    served = middleware(rf.get("/static/site.css"))

    assert served.status_code == 200 and served["Content-Type"].startswith("text/css")
    assert b"".join(served.streaming_content) == b"body { margin: 0 }"
    assert list(middleware.files) == ["/static/site.css"] and seen == ["/api/v1/payments"]


def test_the_files_are_listed_once_as_whitenoise_lists_them_at_start(tmp_path, rf):
    (tmp_path / "site.css").write_text("body { margin: 0 }")
    seen: list[str] = []
    middleware = _middleware(tmp_path, seen)
    assert middleware(rf.get("/static/missing.css")).content == b"the app"  # not a file: the app answers

    (tmp_path / "later.css").write_text("p { color: red }")

    assert middleware(rf.get("/static/later.css")).content == b"the app"
    assert middleware(rf.get("/static/site.css")).status_code == 200
    assert seen == ["/static/missing.css", "/static/later.css"]
