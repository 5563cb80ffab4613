"""The web gateway (``lanchat-web``): phones and browsers in a LAN chat of this protocol.

``frames`` is the page's protocol (pure); ``gateway`` the asyncio HTTP + WebSocket side
with a ``protocol_lib.ClientCore`` per person; ``runner`` starts one in a thread.
Needs the ``web`` extra (aiohttp, segno)."""

DEFAULT_HTTP_PORT = 8421
"""The page's TCP port unless told otherwise (near the chat's 4321; rarely taken)."""
