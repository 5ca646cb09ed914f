"""gunicorn settings of user-service: the one start command for the Procfile, the Dockerfile and
compose. What every microservice runs with (the hardened worker, its timeouts, the hooks that
start the background key and revocation reads) is the kit's; this file names the app and port.
"""

import os

from service_kit.serving.gunicorn_settings import *  # noqa: F403
from service_kit.serving.metrics_dir import use_own_metrics_dir

use_own_metrics_dir("user-service")  # before the app is imported
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8001')}"
wsgi_app = "user_service:create_app()"
