"""The hand-written baseline of the transports section: a FastAPI endpoint and an httpx client
written the way the bittensor 11 migration recipes do it, with no synapsegen runtime in the
HTTP path.

- Server: a FastAPI route ``POST /TokenStream`` with a pydantic request model; the btauth/1
  check in a FastAPI dependency (``verified_caller``) that reads the raw body; a
  ``StreamingResponse`` of Server-Sent Events, one ``data: <token>\\n\\n`` per token, i.e. one
  send per token; served by uvicorn.
- Client: ``httpx.AsyncClient.stream`` with the signed headers, the SSE lines parsed by hand
  from ``aiter_lines()``.

The signing is the runtime's own ``btauth.sign_request`` and ``BtAuthVerifier`` (the same bytes
bittensor 11's ``http_auth`` signs), so that between this endpoint and synapsegen's btauth/1
route only the HTTP stack differs. A developer following the recipes with bittensor 11 would call
``bittensor.http_auth.sign``/``verify`` at the same two places, at about the same cost (one
sr25519 signature, one verification, a sha256 of the body).
"""

from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import BaseModel

from synapsegen.runtime.btauth import BtAuthVerifier, sign_request
from synapsegen.runtime.errors import Rejected

ROUTE = "/TokenStream"

#: The miner's "model": the tokens to stream for a request (prompt, n_tokens).
TokenSource = Callable[[str, int], AsyncIterator[str]]


class StreamRequest(BaseModel):
    """The request body: the same JSON as synapsegen's btauth/1 request of ``TokenStream``."""

    prompt: str
    n_tokens: int = 100


def build_app(own_hotkey: str, tokens: TokenSource) -> Any:
    """The miner: one FastAPI route streaming ``tokens(prompt, n_tokens)`` as SSE."""
    # Imported here so that the client process does not load FastAPI (no ``from __future__
    # import annotations`` in this file: FastAPI reads the annotations of these local names).
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.responses import StreamingResponse

    app = FastAPI()
    verifier = BtAuthVerifier(own_hotkey)

    async def verified_caller(request: Request) -> str:
        """The btauth/1 check as a dependency: the signer's hotkey, or 400/401/421."""
        body = await request.body()  # the raw bytes that were signed (FastAPI caches them)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            claim = verifier.claim(request.headers)
            claim = await verifier.verify(claim, method=request.method, target=target, body=body)
        except Rejected as exc:
            raise HTTPException(status_code=exc.status, detail=str(exc)) from None
        return claim.hotkey

    @app.post(ROUTE)
    async def token_stream(
        req: StreamRequest, caller: str = Depends(verified_caller)
    ) -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            async for token in tokens(req.prompt, req.n_tokens):
                yield f"data: {token}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


async def stream_call(
    client: Any,
    keypair: Any,
    receiver: str,
    prompt: str,
    n_tokens: int,
    on_token: Callable[[str], None],
) -> int:
    """The validator: one signed streaming call; ``on_token`` gets each token; returns the
    HTTP status. ``client`` is an ``httpx.AsyncClient`` whose ``base_url`` is the miner."""
    body = StreamRequest(prompt=prompt, n_tokens=n_tokens).model_dump_json().encode()
    headers = sign_request(keypair, method="POST", target=ROUTE, body=body, receiver=receiver)
    headers["Content-Type"] = "application/json"
    async with client.stream("POST", ROUTE, content=body, headers=headers) as response:
        if response.status_code != 200:
            await response.aread()
            return int(response.status_code)
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                on_token(line[len("data: ") :])
        return int(response.status_code)
