"""The cold starts' reference: a bare Flask + SQLAlchemy + psycopg2 app under gunicorn, one
worker, whose one route answers a page of todos from PostgreSQL.

Started in the same run as faas and the stack, from launch to its first database-backed answer,
it is what starting any Python web service with a database costs on the machine of the run:
the cold starts are measured against it, so that their bounds hold on any machine.
"""

import os

from flask import Flask, jsonify
from sqlalchemy import create_engine, text

PAGE = text("SELECT title FROM todos WHERE owner_id = :owner ORDER BY position, id LIMIT 20")

engine = create_engine(os.environ["DATABASE_URL"])
app = Flask(__name__)


@app.get("/todos")
def list_todos():
    with engine.connect() as connection:
        titles = connection.execute(PAGE, {"owner": os.environ["OWNER_ID"]}).scalars()
        return jsonify([{"title": title} for title in titles])
