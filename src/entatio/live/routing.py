from django.urls import path

from entatio.live.consumers import LiveConsumer, PresenterConsumer

websocket_urlpatterns = [
    path("ws/live/<str:code>/", LiveConsumer.as_asgi()),
    path("ws/live/<str:code>/present/", PresenterConsumer.as_asgi()),
]
