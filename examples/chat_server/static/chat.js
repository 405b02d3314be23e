// The original app's page: every message sent is broadcast by the server to everyone.
const socket = io();
const messages = document.getElementById("messages");
const form = document.getElementById("composer");
const input = document.getElementById("text");
const status = document.getElementById("status");

function setStatus(online) {
  status.textContent = online ? "online" : "offline";
  status.className = "status " + (online ? "online" : "offline");
}

socket.on("connect", () => setStatus(true));
socket.on("disconnect", () => setStatus(false));

socket.on("message", (text) => {
  const item = document.createElement("li");
  item.textContent = String(text);  // text, never HTML
  messages.appendChild(item);
  messages.scrollTop = messages.scrollHeight;
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  socket.emit("message", text);
  input.value = "";
  input.focus();
});
