// Draws the TodoMVC markup from the store. Items are keyed and updated in place rather than
// rebuilt, so keyboard focus and an edit in progress survive every redraw.

export const FILTERS = {
  "#/": () => true,
  "#/active": (todo) => !todo.completed,
  "#/completed": (todo) => todo.completed,
};

export function currentFilter() {
  return FILTERS[window.location.hash] ? window.location.hash : "#/";
}

function createItem(key) {
  const li = document.createElement("li");
  li.dataset.key = key;
  const view = document.createElement("div");
  view.className = "view";
  const toggle = document.createElement("input");
  toggle.className = "toggle";
  toggle.type = "checkbox";
  const label = document.createElement("label");
  label.id = `label-${key}`;
  label.tabIndex = 0; // double-click is mouse-only: Enter on the focused label edits too
  toggle.setAttribute("aria-labelledby", label.id);
  const destroy = document.createElement("button");
  destroy.className = "destroy";
  destroy.type = "button";
  view.append(toggle, label, destroy);
  const edit = document.createElement("input");
  edit.className = "edit";
  edit.maxLength = 500;
  li.append(view, edit);
  return li;
}

function updateItem(li, todo, editing) {
  li.classList.toggle("completed", todo.completed);
  li.classList.toggle("editing", editing);
  li.classList.toggle("pending", todo.id === null);
  li.querySelector(".toggle").checked = todo.completed;
  const label = li.querySelector("label");
  if (label.textContent !== todo.title) label.textContent = todo.title;
  li.querySelector(".destroy").setAttribute("aria-label", `Delete “${todo.title}”`);
  const edit = li.querySelector(".edit");
  edit.setAttribute("aria-label", `Edit “${todo.title}”`);
  // Fill the editor only as an edit starts: later redraws must not undo the user's typing.
  if (editing && !li.dataset.editing) edit.value = todo.title;
  if (editing) li.dataset.editing = "yes";
  else delete li.dataset.editing;
}

function renderList(list, todos, editingKey) {
  const stale = new Map([...list.children].map((li) => [li.dataset.key, li]));
  todos.forEach((todo, index) => {
    const li = stale.get(todo.key) ?? createItem(todo.key);
    stale.delete(todo.key);
    updateItem(li, todo, todo.key === editingKey);
    // Move only what is out of place: moving a node takes the keyboard focus away from it.
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
  });
  for (const li of stale.values()) li.remove();
}

function renderCount(element, left) {
  const strong = document.createElement("strong");
  strong.textContent = String(left);
  element.replaceChildren(strong, ` ${left === 1 ? "item" : "items"} left`);
}

// root is the section.todoapp; editingKey names the item being edited, if any.
export function render(root, store, editingKey) {
  const filter = currentFilter();
  const all = store.todos;
  const left = store.active.length;
  const completed = all.length - left;
  root.querySelector(".main").hidden = all.length === 0;
  root.querySelector(".footer").hidden = all.length === 0;
  root.querySelector(".toggle-all").checked = all.length > 0 && left === 0;
  renderList(root.querySelector(".todo-list"), all.filter(FILTERS[filter]), editingKey);
  renderCount(root.querySelector(".todo-count"), left);
  for (const link of root.querySelectorAll(".filters a")) {
    const selected = link.getAttribute("href") === filter;
    link.classList.toggle("selected", selected);
    if (selected) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  root.querySelector(".clear-completed").hidden = completed === 0;
  root.setAttribute("aria-busy", String(store.saving > 0));
}

export function clear(root) {
  root.querySelector(".todo-list").replaceChildren();
  render(root, { todos: [], active: [], saving: 0 }, null);
}
