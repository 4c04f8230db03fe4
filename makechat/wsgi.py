"""What gunicorn serves: ``gunicorn makechat.wsgi:application``."""

from makechat.app import create_app
from makechat.config import load_config

application = create_app(load_config(), background=True)
