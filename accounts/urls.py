from rest_framework.routers import SimpleRouter

from .api import UserViewSet

router = SimpleRouter()
router.register("", UserViewSet, basename="user")
urlpatterns = router.urls
