"""WSGI entry for gunicorn: `gunicorn 'dashboard.wsgi:server'`.

Public deployments are read-only (no upload) unless ARMSDASH_ALLOW_UPLOAD=1.
"""

import os

from dashboard.app import create_app
from etl.settings import default_db

app = create_app(default_db(), read_only=os.environ.get("ARMSDASH_ALLOW_UPLOAD") != "1")
server = app.server
