"""The API's documentation page at /docs, served whole by the deployment.

Swagger UI's files come from the locked `swagger-ui-bundle-v2` package, not from a CDN: a public
administration's network often has no way out to the internet, and a page that loads code from elsewhere
is code nobody here chose. The page allows scripts and styles from this origin only.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

_HERE = Path(__file__).parent / "static"
#: Swagger UI sets style attributes on its elements: styles may be inline, scripts never.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} — API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png">
</head>
<body>
<main id="swagger-ui"></main>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Adds /docs, its script, and Swagger UI's files under /docs/static to `app` (made with docs_url=None)."""
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff"}
    page = _PAGE.format(title=app.title)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)

    @app.get("/docs/docs.js", include_in_schema=False)
    async def docs_script() -> FileResponse:
        return FileResponse(_HERE / "docs.js", media_type="text/javascript", headers=headers)

    app.mount("/docs/static", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
