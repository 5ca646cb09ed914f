"""Token checks of a microservice: faas's keys, the revoked sessions, the require_* decorators."""
