"""Aftercare settings. Everything that differs between machines comes from the environment.

The defaults run the whole app on one machine with nothing else installed: a SQLite file,
Celery tasks executed in-process, e-mail printed to the console. See README.md, "Configuration".
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

PRODUCTION = env.bool("AFTERCARE_PRODUCTION", default=False)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
_INSECURE_KEY = "insecure-development-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_INSECURE_KEY)

if PRODUCTION:
    if SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("AFTERCARE_PRODUCTION is set: SECRET_KEY must be set (50+ characters).")
    if DEBUG:
        raise ImproperlyConfigured("AFTERCARE_PRODUCTION is set: DEBUG must be off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "simple_history",
    "core",
    "orders",
    "returns",
    "installations",
    "feedback",
    "loyalty",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.middleware.RequireMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "core.urls"
WSGI_APPLICATION = "core.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE: every transaction takes the write lock when it starts, so two writers queue
    # instead of failing half-way with "database is locked" (see docs/decisions/0002).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default="")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

# --- Cache (throttling, sessions, permissions) -----------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://aftercare?max_entries=10000")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "core.cache.RedisCache"  # one client per pool, not one per call
if PRODUCTION and "CACHE_URL" not in env:
    # Sessions, permissions and rate limits live in the cache: a per-process cache would keep a
    # logged-out session or a revoked role alive in the other web processes.
    raise ImproperlyConfigured("AFTERCARE_PRODUCTION is set: CACHE_URL must name a shared cache (redis://...).")
# Sessions (and allauth's app session tokens) are read from the cache, written through to the DB.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
PERMISSION_CACHE_SECONDS = env.int("PERMISSION_CACHE_SECONDS", default=60)

# --- Auth: django-allauth (web pages) and allauth headless (mobile apps) ---------------------
AUTHENTICATION_BACKENDS = [
    "core.permissions_cache.CachedModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "pages:today"
ACCOUNT_ADAPTER = "core.auth.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Aftercare"
HEADLESS_CLIENTS = ("app",)
HEADLESS_ONLY = False
# Roles whose members must have a second factor before they may use the pages or the API.
AFTERCARE_MFA_REQUIRED_ROLES = env.list(
    "AFTERCARE_MFA_REQUIRED_ROLES", default=["manager", "admin"] if PRODUCTION else []
)

# How many reverse proxies in front of the app append to X-Forwarded-For. 0: use the peer address
# and ignore the header, so that a client cannot pick its own identity for rate limits.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.SessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.StaffModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "core.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/min"),
        "user": env.str("THROTTLE_USER", default="3000/min"),
        "secret_lookup": env.str("THROTTLE_SECRET_LOOKUP", default="10/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Aftercare API",
    "DESCRIPTION": "Post-purchase back office: timeline, orders, returns, installations, feedback, loyalty.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TouchpointChannelEnum": "core.choices.Channel",
        "ContactChannelEnum": "core.choices.ContactChannel",
        "NotificationStatusEnum": "core.choices.NotificationStatus",
        "OrderStatusEnum": "orders.choices.OrderStatus",
        "ChargeStatusEnum": "orders.choices.ChargeStatus",
        "ShipmentStatusEnum": "orders.choices.ShipmentStatus",
        "DeliveryStatusEnum": "orders.choices.DeliveryStatus",
        "DeliveryExceptionStatusEnum": "orders.choices.ExceptionStatus",
        "PickupStatusEnum": "orders.choices.PickupStatus",
        "ReturnStatusEnum": "returns.choices.ReturnStatus",
        "ReturnReasonEnum": "returns.choices.ReturnReason",
        "VoucherStatusEnum": "returns.choices.VoucherStatus",
        "VoucherSourceEnum": "returns.choices.VoucherSource",
        "VoucherTransactionKindEnum": "returns.choices.VoucherTransactionKind",
        "AppointmentStatusEnum": "installations.choices.AppointmentStatus",
        "ServicePlaceEnum": "installations.choices.ServicePlace",
        "TrainingPlaceEnum": "installations.choices.TrainingPlace",
        "TrainingSessionStatusEnum": "installations.choices.SessionStatus",
        "EnrolmentStatusEnum": "installations.choices.EnrolmentStatus",
        "TrainingRequestStatusEnum": "installations.choices.TrainingRequestStatus",
        "AlterationStatusEnum": "installations.choices.AlterationStatus",
    },
}
# How long an Idempotency-Key is remembered before the periodic purge may drop it.
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24))

# Admin history is for reading: reverting would write rows behind the services (core.admin_tools.HistoryAdmin).
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# No broker: run tasks in-process so the embedded default works end to end.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "aftercare"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "notifications-sweep": {"task": "core.tasks.notifications_sweep", "schedule": timedelta(minutes=1)},
    "idempotency-keys-purge": {"task": "core.tasks.idempotency_keys_purge", "schedule": crontab(minute=17)},
    "orders-delay-sweep": {"task": "orders.tasks.delay_sweep", "schedule": timedelta(minutes=30)},
    "orders-pickup-sweep": {"task": "orders.tasks.pickup_sweep", "schedule": timedelta(minutes=5)},
    "orders-delivery-reminders": {"task": "orders.tasks.delivery_reminders", "schedule": timedelta(minutes=15)},
    "returns-voucher-sweep": {"task": "returns.tasks.voucher_sweep", "schedule": timedelta(minutes=30)},
    "installations-reminders": {"task": "installations.tasks.appointment_reminders", "schedule": timedelta(minutes=15)},
}

# --- Installations ----------------------------------------------------------------------------
# Appointments are moved or cancelled up to this long before they start (then: call the store).
APPOINTMENT_CHANGE_NOTICE = timedelta(hours=env.int("APPOINTMENT_CHANGE_NOTICE_HOURS", default=24))
# Free slots start no sooner than this from now (so a booking can still be moved with notice).
APPOINTMENT_BOOKING_LEAD = timedelta(hours=env.int("APPOINTMENT_BOOKING_LEAD_HOURS", default=24))
# The customer is reminded this long before an appointment.
APPOINTMENT_REMINDER_BEFORE = timedelta(hours=env.int("APPOINTMENT_REMINDER_HOURS", default=24))

# --- Notifications --------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Aftercare <care@aftercare.example>")
NOTIFICATION_SMS_BACKEND = env.str("NOTIFICATION_SMS_BACKEND", default="core.notifications.backends.LogBackend")
NOTIFICATION_PUSH_BACKEND = env.str("NOTIFICATION_PUSH_BACKEND", default="core.notifications.backends.LogBackend")
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
# A queued notification older than this is picked up again by the sweep.
NOTIFICATION_SWEEP_AFTER = timedelta(seconds=env.int("NOTIFICATION_SWEEP_AFTER_SECONDS", default=120))

# --- Orders, deliveries and pickups ---------------------------------------------------------
ORDERS_SHIPPING_FEE = Decimal(env.str("ORDERS_SHIPPING_FEE", default="4.95"))
# Home delivery is free from this order value (fulfillment options).
ORDERS_FREE_DELIVERY_FROM = Decimal(env.str("ORDERS_FREE_DELIVERY_FROM", default="50.00"))
# Customers change a delivery's instructions or window until this long before the window opens.
DELIVERY_CHANGE_CUTOFF = timedelta(hours=env.int("DELIVERY_CHANGE_CUTOFF_HOURS", default=24))
# The "what is coming" message goes out this long before the window.
DELIVERY_REMINDER_BEFORE = timedelta(hours=env.int("DELIVERY_REMINDER_HOURS", default=24))
PICKUP_HOLD = timedelta(days=env.int("PICKUP_HOLD_DAYS", default=7))
PICKUP_REMINDER_BEFORE = timedelta(hours=env.int("PICKUP_REMINDER_HOURS", default=24))
# Carrier webhooks older than this (by their signed timestamp) are refused as replays.
CARRIER_WEBHOOK_MAX_AGE = timedelta(seconds=env.int("CARRIER_WEBHOOK_MAX_AGE_SECONDS", default=300))

# --- Returns and credit vouchers ------------------------------------------------------------
# Customers are told this many days before a credit voucher with money left expires.
VOUCHER_EXPIRY_REMINDER_DAYS = env.int("VOUCHER_EXPIRY_REMINDER_DAYS", default=14)

# --- I18N / time ----------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Outside production, gunicorn serves static files straight from the apps, without collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
