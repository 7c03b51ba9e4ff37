"""The ASGI entry point: `uvicorn asgi:app`."""

from portal.app import create_app

app = create_app()
