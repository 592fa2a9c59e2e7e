"""Server-side token streaming: turn an async iterator of tokens into a bittensor token streamer.

CONTRACT (generated server helpers call exactly this API):

    def token_streamer(
        tokens: AsyncIterable[T],
        encode: Callable[[T], bytes],
        *,
        batch_count: int = 1,             # flush after this many tokens ...
        batch_interval: float | None = None,  # ... or this many seconds since the first unsent token
        timeout: float | None = None,     # stop after this many seconds (pass synapse.timeout)
        encode_error: Callable[[BaseException], bytes] | None = None,
        on_timeout: Callable[[], bytes] | None = None,
    ) -> Callable[[Send], Awaitable[None]]

The returned coroutine function is what ``StreamingSynapse.create_streaming_response`` takes. It
sends only ``http.response.body`` messages with ``bytes`` bodies and ``more_body: True`` (the
response itself sends the final empty message), concatenating a batch into one send. When the token
iterator raises, pending tokens are flushed first, then ``encode_error(exc)`` is sent if given (the
schema's declared error event), and the exception is logged and not re-raised into the ASGI server
(the response must still end cleanly). When ``timeout`` passes, pending tokens are flushed, then
``on_timeout()`` is sent if given, and the token iterator is closed (``aclose``). A client that
disconnects stops the iteration and closes the iterator.

``MinerError(message)`` (a StreamError subclass) is what a generated client raises when it receives
the schema's declared error event.
"""
