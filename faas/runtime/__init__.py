"""The local stand-in for a FaaS platform: one gunicorn worker is one function instance, started
and released by the platform (gunicorn's master) as the load asks.

Start it from the folder that holds the function code:

    python -m runtime.platform -c runtime/gunicorn.conf.py runtime.wsgi:application
"""
