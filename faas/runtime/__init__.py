"""The local stand-in for a FaaS platform: one gunicorn worker is one function instance.

Start it from the folder that holds the function code:

    gunicorn -c runtime/gunicorn.conf.py runtime.wsgi:application
"""
