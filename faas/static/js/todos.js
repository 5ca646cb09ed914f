// The list as the user sees it, kept in step with the server. Changes show at once and are
// then sent; a change the server refuses is undone on screen and reported, never dropped.
import * as api from "./api.js";

let keys = 0;

// crypto.randomUUID exists only in secure contexts; a plain-http host name is not one.
function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function fromServer(todo) {
  return {
    key: `todo-${(keys += 1)}`, // the view's handle: stays the same when a new todo gets its id
    id: todo.id,
    title: todo.title,
    completed: todo.completed,
    etag: null, // the list carries no ETags; a PATCH or POST answer does
    queue: Promise.resolve(), // one request at a time per todo, so each If-Match is current
  };
}

export class TodoStore {
  // onChange() after every change on screen; onError(error, what) when a call failed.
  constructor({ onChange, onError }) {
    this.todos = [];
    this.onChange = onChange;
    this.onError = onError;
    this.closed = false; // set at logout: late answers must not touch the next user's screen
    this.saving = 0; // calls under way: the page says it is busy until the server has them all
    this.creating = Promise.resolve(); // the last create sent
  }

  close() {
    this.closed = true;
    this.todos = [];
  }

  changed() {
    if (!this.closed) this.onChange();
  }

  track(promise) {
    this.saving += 1;
    this.changed();
    return promise.finally(() => {
      this.saving -= 1;
      this.changed();
    });
  }

  failed(error, what) {
    if (!this.closed) this.onError(error, what);
  }

  // The server's list replaces ours, except for todos it may not have yet: those still being
  // created and those added while it was on its way (a user may type before it arrives).
  async load() {
    const before = new Set(this.todos);
    const todos = await api.listTodos();
    if (this.closed) return;
    const kept = this.todos.filter((todo) => todo.id === null || !before.has(todo));
    const keptIds = new Set(kept.map((todo) => todo.id));
    this.todos = [...todos.filter((todo) => !keptIds.has(todo.id)).map(fromServer), ...kept];
    this.changed();
  }

  // Runs fn after the todo's earlier requests; a todo whose create failed sends nothing more.
  send(todo, fn) {
    const result = todo.queue.then(() => (todo.id === null ? null : fn()));
    todo.queue = result.catch(() => null); // a failed request must not block the next one
    return result;
  }

  add(title) {
    const todo = fromServer({ id: null, title, completed: false });
    this.todos.push(todo);
    this.changed();
    // Creates go one after another: the server puts each new todo at the end, so the list it
    // keeps has the order the user typed, as on screen.
    const created = this.creating.then(() => api.createTodo({ title }, newUuid()));
    todo.queue = this.track(created).then(
      ({ todo: saved, etag }) => {
        Object.assign(todo, { id: saved.id, etag });
        // A list that arrived meanwhile may hold it already, as a copy of its own.
        this.todos = this.todos.filter((each) => each === todo || each.id !== saved.id);
        this.changed();
      },
      (error) => {
        this.todos = this.todos.filter((each) => each !== todo);
        this.changed();
        this.failed(error, `Could not add “${title}”`);
      },
    );
    this.creating = todo.queue; // settles either way: a failed create does not block the next
  }

  update(todo, changes) {
    const before = Object.fromEntries(Object.keys(changes).map((name) => [name, todo[name]]));
    Object.assign(todo, changes);
    this.changed();
    // The new ETag is taken inside the queued call, before the todo's next request reads it.
    const save = async () => {
      const answer = await api.updateTodo(todo.id, changes, todo.etag);
      todo.etag = answer.etag;
    };
    this.track(this.send(todo, save)).catch((error) =>
      this.refused(error, "Could not save the change", () => Object.assign(todo, before)),
    );
  }

  remove(todo) {
    const index = this.todos.indexOf(todo);
    this.todos = this.todos.filter((each) => each !== todo);
    this.changed();
    this.track(this.send(todo, () => api.deleteTodo(todo.id))).catch((error) => {
      if (error.status === 404) return; // gone already, which is what the user asked for
      this.refused(error, `Could not delete “${todo.title}”`, () => this.todos.splice(index, 0, todo));
    });
  }

  toggleAll(completed) {
    for (const todo of this.todos) {
      if (todo.completed !== completed) this.update(todo, { completed });
    }
  }

  clearCompleted() {
    const before = this.todos;
    this.todos = before.filter((todo) => !todo.completed);
    this.changed();
    this.track(api.clearCompleted()).catch((error) =>
      this.refused(error, "Could not clear the completed todos", () => {
        // Put them back in list order, keeping any todo added meanwhile.
        const shown = new Set(this.todos);
        const earlier = new Set(before);
        const restored = before.filter((todo) => shown.has(todo) || todo.completed);
        this.todos = [...restored, ...this.todos.filter((todo) => !earlier.has(todo))];
      }),
    );
  }

  // A refused change: undo it on screen; if the todo changed or vanished elsewhere (412, 404),
  // our copy is stale, so the server's list replaces it.
  refused(error, what, undo) {
    if (this.closed) return;
    if (error.status === 412 || error.status === 404) {
      this.failed(error, `${what}: it was changed elsewhere, so the list has been reloaded`);
      this.load().catch((reloadError) => this.failed(reloadError, "Could not reload the list"));
      return;
    }
    undo();
    this.changed();
    this.failed(error, what);
  }

  get active() {
    return this.todos.filter((todo) => !todo.completed);
  }
}
