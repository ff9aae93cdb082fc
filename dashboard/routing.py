from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/runs/<str:run_id>/", consumers.RunConsumer.as_asgi()),
    path("ws/classroom/<str:room>/", consumers.ClassroomConsumer.as_asgi()),
]
