"""Settings for MixAdvice, read from the environment.

Every variable is documented in README.md ("Configuration"). The defaults run the
demo: debug on, SQLite under ``var/``, data under ``var/data``.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_database, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# No hub downloads at run time: a real checkpoint is a path or an id already cached.
for _flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_flag, "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("NLTK_DATA", str(VAR_DIR / "nltk_data"))

DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off; generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    SECRET_KEY = "insecure-demo-key-only-for-debug-mode-never-deploy-this-value-0123456789"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

DATA_DIR = Path(env_str("MIXADVICE_DATA_DIR", str(VAR_DIR / "data"))).resolve()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_q",
    "study",
    "modelgen",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
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

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {"default": env_database("DATABASE_URL", VAR_DIR / "mixadvice.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

LOGIN_URL = "admin:login"

# Request size limits (uploads of stems are handled by the advisor with its own limit).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)

# Listening study: how many participant sessions one client address may start (DRF rate syntax).
MIXADVICE_SESSION_START_RATE = env_str("MIXADVICE_SESSION_START_RATE", "60/hour")

# The advisor page ("try the advisor"): who may use it, what it accepts, which advisor answers.
# Paths left unset are looked up under DATA_DIR when a request needs them (see docs/advisor.md).
MIXADVICE_ADVISOR_PUBLIC = env_bool("MIXADVICE_ADVISOR_PUBLIC", True)
MIXADVICE_ADVISOR_MAX_STEMS = env_int("MIXADVICE_ADVISOR_MAX_STEMS", 8, minimum=2)
MIXADVICE_ADVISOR_MAX_SECONDS = env_int("MIXADVICE_ADVISOR_MAX_SECONDS", 600, minimum=1)
MIXADVICE_ADVISOR_MAX_UPLOAD_MB = env_int("MIXADVICE_ADVISOR_MAX_UPLOAD_MB", 200, minimum=1)
MIXADVICE_ADVISOR_MODEL = env_str("MIXADVICE_ADVISOR_MODEL")
MIXADVICE_ADVISOR_ADAPTER = env_str("MIXADVICE_ADVISOR_ADAPTER")
MIXADVICE_ADVISOR_NORMS = env_str("MIXADVICE_ADVISOR_NORMS")
MIXADVICE_ADVISOR_DEMO_DATASET = env_str("MIXADVICE_ADVISOR_DEMO_DATASET")
MIXADVICE_ADVISOR_JOB_TIMEOUT = env_int("MIXADVICE_ADVISOR_JOB_TIMEOUT", 1800, minimum=10)
MIXADVICE_ADVISOR_CLIP_SECONDS = env_int("MIXADVICE_ADVISOR_CLIP_SECONDS", 10, minimum=1)

# Uploaded files: larger than this are streamed to a temporary file, never held in memory;
# one request may carry a few more files than the stem limit so that "too many" gets a message.
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("DJANGO_FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FILES = MIXADVICE_ADVISOR_MAX_STEMS + 8
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# Background jobs (advisor inference): django-q2 with its ORM broker on the default database,
# so no separate broker runs. Start workers with `manage.py qcluster` (docs/deployment.md).
Q_CLUSTER = {
    "name": "mixadvice",
    "orm": "default",
    "workers": env_int("MIXADVICE_WORKERS", 1, minimum=1),
    "timeout": MIXADVICE_ADVISOR_JOB_TIMEOUT,
    "retry": MIXADVICE_ADVISOR_JOB_TIMEOUT + 60,
    "max_attempts": 1,
    "ack_failures": True,
    "poll": 0.5,
    "catch_up": False,
    "save_limit": 500,
    "label": "Background jobs",
}

# Security: secure by default whenever debug is off; every switch can be set for a proxy.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_PROXY", False) else None
)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MixAdvice API",
    "DESCRIPTION": "Participant trial API and researcher API of the MixAdvice listening study.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
}
