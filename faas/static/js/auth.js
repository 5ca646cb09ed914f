// The login and register form. Both buttons submit the same form; the one pressed says which.
import * as api from "./api.js";

const SERVICE_DOWN = "The service is unavailable right now. Please try again in a moment.";

function waitText(seconds) {
  if (seconds === null) return "a little while";
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

// What to tell a person whose login or registration failed, by the server's answer.
export function explain(error) {
  switch (error.status) {
    case 401:
      return "Wrong username or password.";
    case 409:
      return "That username is already taken. Please choose another one.";
    case 429:
      return `Too many failed attempts. Please try again in ${waitText(error.retryAfter)}.`;
    case 0:
      return error.message;
    case 502:
    case 503:
    case 504:
      return SERVICE_DOWN;
    default:
      return error.message; // 422 and the rest: the server's own detail says what was wrong
  }
}

export class AuthForm {
  // onLoggedIn(user): the session cookie is set.
  constructor(form, { onLoggedIn }) {
    this.form = form;
    this.message = form.querySelector("[role=alert]");
    this.onLoggedIn = onLoggedIn;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      // Enter in a field submits with the first button, "Log in".
      this.submit(event.submitter?.value === "register" ? "register" : "login");
    });
  }

  // Shows the empty form, with a message when there is something to say (an expired session).
  show(message = "") {
    this.form.reset();
    this.say(message);
    this.form.elements.username.focus();
  }

  say(text) {
    this.message.textContent = text;
    this.message.hidden = !text;
  }

  busy(yes) {
    this.form.setAttribute("aria-busy", String(yes));
    for (const button of this.form.querySelectorAll("button")) button.disabled = yes;
  }

  async submit(action) {
    const username = this.form.elements.username.value.trim();
    const password = this.form.elements.password.value;
    if (!username || !password) {
      this.say("Please enter a username and a password.");
      this.form.elements[username ? "password" : "username"].focus();
      return;
    }
    this.say("");
    this.busy(true);
    try {
      if (action === "register") await api.register(username, password);
      const { user } = await api.login(username, password);
      this.form.reset();
      this.onLoggedIn(user);
    } catch (error) {
      this.say(explain(error));
      this.form.elements.password.focus();
    } finally {
      this.busy(false);
    }
  }
}
