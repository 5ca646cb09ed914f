"""Fixture function: an initializer, but no `handler` entry."""


def initializer(context):
    pass
