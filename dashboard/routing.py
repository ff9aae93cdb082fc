from django.urls import path, re_path

from . import consumers


class NoSuchSocket(consumers.JsonConsumer):
    """Any other path under the WebSocket router: an error naming the path and a close, as for an unknown
    run, instead of Channels' "No route found" (a 500 handshake and a traceback in the log)."""

    async def connect(self):
        await self.accept()
        await self.send_json(consumers.error_message("path", "no such socket: /ws/runs/<run id>/ or "
                                                             "/ws/classroom/<room>/"))
        await self.close(code=4404)


websocket_urlpatterns = [
    path("ws/runs/<str:run_id>/", consumers.RunConsumer.as_asgi()),
    path("ws/classroom/<str:room>/", consumers.ClassroomConsumer.as_asgi()),
    re_path(r"", NoSuchSocket.as_asgi()),
]
