"""The project's URLs plus /bench/raw/...: the same rows as the API, one raw SQL query each."""

from django.urls import path

from bench import rawviews
from core.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("bench/raw/customers/", rawviews.customer_list, name="bench-raw-customer-list"),
    path("bench/raw/customers/<int:pk>/", rawviews.customer_detail, name="bench-raw-customer-detail"),
    path("bench/raw/customers/<int:pk>/timeline/", rawviews.customer_timeline, name="bench-raw-customer-timeline"),
    *project_urlpatterns,
]
