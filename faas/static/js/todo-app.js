// The logged-in screen: turns the user's clicks and keys into store changes and redraws.
// Listeners are bound once; open() and close() start and end one user's session on it.
import { TodoStore } from "./todos.js";
import { clear, render } from "./view.js";

export class TodoApp {
  // root: the todo view; onExpired(): the server no longer knows this session (401).
  constructor(root, { onExpired }) {
    this.root = root;
    this.app = root.querySelector(".todoapp");
    this.list = root.querySelector(".todo-list");
    this.newTodo = root.querySelector(".new-todo");
    this.message = root.querySelector("#todo-message");
    this.onExpired = onExpired;
    this.store = null;
    this.editingKey = null;
    this.bind();
  }

  open() {
    this.store = new TodoStore({
      onChange: () => this.redraw(),
      onError: (error, what) => this.report(error, what),
    });
    this.redraw();
    this.newTodo.focus();
    this.store.load().catch((error) => this.report(error, "Could not load your todos"));
  }

  // Leaves nothing of this user's list in the DOM.
  close() {
    this.store?.close();
    this.store = null;
    this.editingKey = null;
    this.newTodo.value = "";
    this.say("");
    clear(this.app);
  }

  redraw() {
    if (this.store) render(this.app, this.store, this.editingKey);
  }

  report(error, what) {
    if (error.status === 401) this.onExpired();
    else this.say(`${what}. ${error.message}`);
  }

  say(text) {
    this.message.textContent = text;
    this.message.hidden = !text;
  }

  todoOf(element) {
    const key = element.closest("li")?.dataset.key;
    return this.store?.todos.find((todo) => todo.key === key);
  }

  bind() {
    const on = (element, type, selector, handler) =>
      element.addEventListener(type, (event) => {
        const target = selector ? event.target.closest(selector) : event.target;
        if (target && this.store) handler(target, event);
      });
    on(this.newTodo, "keydown", null, (input, event) => {
      if (event.key !== "Enter" || event.isComposing) return;
      const title = input.value.trim();
      if (!title) return;
      this.say("");
      this.store.add(title);
      input.value = "";
    });
    on(this.app, "change", ".toggle-all", (input) => this.store.toggleAll(input.checked));
    on(this.list, "change", ".toggle", (input) => {
      const todo = this.todoOf(input);
      if (todo) this.store.update(todo, { completed: input.checked });
    });
    on(this.list, "click", ".destroy", (button) => {
      const todo = this.todoOf(button);
      if (!todo) return;
      this.store.remove(todo);
      this.newTodo.focus(); // the focused button is gone with its item
    });
    on(this.app, "click", ".clear-completed", () => this.store.clearCompleted());
    on(this.list, "dblclick", ".view label", (label) => this.edit(label));
    on(this.list, "keydown", ".view label", (label, event) => {
      if (event.key === "Enter" || event.key === "F2") this.edit(label);
    });
    on(this.list, "keydown", ".edit", (input, event) => {
      if (event.isComposing) return;
      if (event.key === "Enter") this.finishEdit(input, { save: true, refocus: true });
      else if (event.key === "Escape") this.finishEdit(input, { save: false, refocus: true });
    });
    // blur does not bubble; focusout does. Leaving the editor saves, as in TodoMVC.
    on(this.list, "focusout", ".edit", (input) => this.finishEdit(input, { save: true, refocus: false }));
    window.addEventListener("hashchange", () => this.redraw());
  }

  edit(label) {
    const todo = this.todoOf(label);
    if (!todo) return;
    this.editingKey = todo.key;
    this.redraw();
    const input = label.closest("li").querySelector(".edit");
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  // Runs once per edit, whichever of Enter, Escape or blur comes first. A key press leaves the
  // focus on the item; a blur leaves it wherever the user moved it.
  finishEdit(input, { save, refocus }) {
    const todo = this.todoOf(input);
    if (!todo || todo.key !== this.editingKey) return;
    this.editingKey = null;
    const title = input.value.trim();
    if (save && !title) {
      this.store.remove(todo);
      if (refocus) this.newTodo.focus();
      return;
    }
    if (save && title !== todo.title) this.store.update(todo, { title });
    this.redraw();
    if (refocus) input.closest("li").querySelector(".view label").focus();
  }
}
