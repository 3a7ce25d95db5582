"""/docs: the API's documentation page works on a network with no way out, as a public office's often is.

Everything the page loads comes from the deployment (Swagger UI from the locked package, not a CDN), under a
Content-Security-Policy that allows nothing else; tried in headless Chromium with every other host cut off.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Browser, ConsoleMessage, Route

from acd.api.docs import CONTENT_SECURITY_POLICY
from tests.servers import AcdServer


def test_the_documentation_page_shows_the_api_with_nothing_from_outside(
    serve: Callable[..., AcdServer], browser: Browser, tmp_path: Path
) -> None:
    server = serve()
    server.wait_until_healthy()
    elsewhere: list[str] = []
    problems: list[str] = []

    def only_here(route: Route) -> None:
        if urlsplit(route.request.url).netloc == f"127.0.0.1:{server.port}":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    context = browser.new_context()
    try:
        page = context.new_page()
        page.route("**/*", only_here)
        page.on("console", console)
        page.goto(f"{server.url}/docs")
        # What a reader looks for: the API's title, its groups, an operation that opens on a click.
        page.get_by_role("heading", name="Contact-centre ACD").wait_for()
        login = page.locator("#operations-auth-login_api_v1_auth_login_post")
        login.get_by_role("button").first.click()
        login.get_by_text("Request body").wait_for()
        page.screenshot(path=os.environ.get("ACD_SCREENSHOT_DOCS", str(tmp_path / "docs.png")))
        # The bearer token is declared: a reader can paste theirs and try the operations.
        page.get_by_role("button", name="Authorize").first.click()
        page.locator("#auth-bearer-value").fill("a-token")
        page.get_by_role("button", name="Apply credentials").click()
        page.locator(".modal-ux").get_by_text("Logout").wait_for()
    finally:
        context.close()
    assert elsewhere == []
    assert problems == []


def test_the_documentation_page_and_its_files_come_with_a_strict_policy(serve: Callable[..., AcdServer]) -> None:
    server = serve()
    server.wait_until_healthy()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self';" in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY
        assert "http://" not in page.text and "https://" not in page.text  # nothing named from elsewhere
        for path, kind in [
            ("/docs/static/swagger-ui-bundle.js", "javascript"),
            ("/docs/static/swagger-ui.css", "text/css"),
            ("/docs/docs.js", "javascript"),
        ]:
            answer = client.get(path)
            assert answer.status_code == 200 and kind in answer.headers["content-type"], path
        assert client.get("/redoc").status_code == 404  # ReDoc would load its script from a CDN: not offered
