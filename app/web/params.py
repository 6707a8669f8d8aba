"""Bounded numbers for query and path parameters: anything outside is a 422 at the edge, never a query."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

from app.web.input_guard import MAX_INT

# A page past this is empty anyway; the bound keeps OFFSET arithmetic far from any integer limit.
MAX_PAGE = 100_000

PageNumber = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description="1-based page number")]
PerPage = Annotated[int, Parameter(ge=1, le=100, description="Items per page (1-100)")]
Id = Annotated[int, Parameter(ge=1, le=MAX_INT)]
