from django.urls import path

from .views import FloorMessageView

urlpatterns = [path("api/chat/message", FloorMessageView.as_view())]
