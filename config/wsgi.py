"""The WSGI entry point (gunicorn, runserver).

Behind TRUSTED_PROXY_COUNT proxies, Werkzeug's ProxyFix puts the client's address from
X-Forwarded-For into REMOTE_ADDR, so everything that counts per address (login lockouts,
wrong feed tokens) and the logs see the client, not the proxy. Without it REMOTE_ADDR stays
the peer's: a forged header changes nothing.
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from werkzeug.middleware.proxy_fix import ProxyFix

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def behind_trusted_proxies(app, proxy_count: int):
    """`app` reading the client address from the last `proxy_count` X-Forwarded-For hops."""
    if not proxy_count:
        return app
    return ProxyFix(app, x_for=proxy_count, x_proto=0, x_host=0, x_port=0, x_prefix=0)


application = behind_trusted_proxies(get_wsgi_application(), settings.TRUSTED_PROXY_COUNT)
