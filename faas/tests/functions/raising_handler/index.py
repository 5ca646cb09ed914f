"""Fixture function: a handler that raises, with a message that must stay out of the answer."""


def initializer(context):
    pass


def handler(environ, start_response):
    raise ValueError("secret internal detail")
