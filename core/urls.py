from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

# The admin signs in through allauth too, so MFA and rate limits apply there as well.
admin.site.login = login_required(admin.site.login)
admin.site.site_header = "Aftercare administration"
admin.site.site_title = "Aftercare"

urlpatterns = [
    path("", include("core.page_urls")),
    path("", include("orders.page_urls")),
    path("", include("returns.page_urls")),
    path("", include("installations.page_urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include("core.api.urls")),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("returns.api.urls")),
    path("api/v1/", include("installations.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
