import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

from portal.aws import require_aws_target  # noqa: E402 - needs the settings loaded above

# The web tier refuses to start rather than send sandbox calls to the real AWS endpoints.
require_aws_target()
