// Starts the page: asks the server whether this browser has a session, then shows either the
// login form or that user's list, and switches between the two as sessions begin and end.
import * as api from "./api.js";
import { AuthForm, explain } from "./auth.js";
import { TodoApp } from "./todo-app.js";

const EXPIRED = "Your session has expired. Please log in again.";

const $ = (selector) => document.querySelector(selector);

const auth = new AuthForm($("#auth-form"), { onLoggedIn: showTodos });
const todos = new TodoApp($("#todo-view"), { onExpired: () => showLogin(EXPIRED) });
const logoutButton = $("#logout");

function showLogin(message = "") {
  todos.close();
  $("#account-name").textContent = "";
  $("#account").hidden = true;
  $("#todo-view").hidden = true;
  $("#loading").hidden = true;
  $("#auth-view").hidden = false;
  auth.show(message);
}

function showTodos(user) {
  $("#account-name").textContent = user.username;
  $("#account").hidden = false;
  $("#auth-view").hidden = true;
  $("#loading").hidden = true;
  $("#todo-view").hidden = false;
  todos.open();
}

logoutButton.addEventListener("click", async () => {
  logoutButton.disabled = true;
  try {
    await api.logout();
    showLogin();
  } catch (error) {
    if (error.status === 401) showLogin(); // the session had ended already
    else todos.say(`Could not log out. ${error.message}`);
  } finally {
    logoutButton.disabled = false;
  }
});

// 401 is the usual "nobody logged in yet"; anything else is worth saying on the form.
api.me().then(showTodos, (error) => showLogin(error.status === 401 ? "" : explain(error)));
