"""schemathesis against ``foreplan serve``'s own OpenAPI schema (``/openapi.json``).

Hand-written tests send the requests we thought of; this one sends what the schema
allows (and some it does not) to a real uvicorn server on 127.0.0.1 and checks what
comes back: never a 5xx, and every status code, content type, header and body as the
schema documents it, with the API key enforced. The model is scripted, so the runs are
fast and deterministic; ``max_examples`` keeps the whole module under a minute.
"""

from __future__ import annotations

import pytest

from foreplan import ScriptedLLM

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

_KEY = "schema-key"
"""With a key configured the schema's Bearer scheme is enforced (the checks also send none)."""
_REPLY = "Plan: Square seven.\n#E1 = calculator[7^2]\n"
"""One reply for every call: a valid plan for /v1/agent/runs, plain text for chat. With a
non-plan reply every agent run is 422 plan_invalid, which schemathesis rightly calls a
valid request rejected; that is the model's failure, not the request's."""
_REPLIES = 5_000
"""More scripted replies than any run asks for (max_examples x operations x retries)."""


@pytest.fixture
def api_schema(live):
    """The schema as served, bound to a live server whose model always answers _REPLY."""
    llms = {"planner": ScriptedLLM([_REPLY] * _REPLIES)}
    # Small limits keep generated requests cheap to answer.
    base = live(llms, max_tokens_limit=64, max_body_bytes=100_000, api_keys=[_KEY])
    return schemathesis.openapi.from_url(f"{base}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis.settings(max_examples=15, deadline=None, derandomize=True,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_the_api_conforms_to_its_schema(case):
    # `stream: true` answers text/event-stream, documented beside the JSON body.
    case.call_and_validate(headers={"Authorization": f"Bearer {_KEY}"}, timeout=10)
