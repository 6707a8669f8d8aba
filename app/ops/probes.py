"""Liveness and readiness probes."""

from __future__ import annotations

from litestar import Controller, Response, get

from app.ops import health as health_service


class HealthController(Controller):
    include_in_schema = False

    @get("/healthz", name="ops:healthz", sync_to_thread=False)
    def healthz(self) -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @get("/readyz", name="ops:readyz")
    async def readyz(self) -> Response[dict]:
        """The database, the broker and the media storage answer; 503 with what is down otherwise."""
        checks = await health_service.readiness()
        ok = all(v == "ok" for v in checks.values())
        return Response({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)
